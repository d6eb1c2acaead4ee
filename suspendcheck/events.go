package suspendcheck

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// An event is what may block in a function's own code: a wait, or a call of a function
// that may (known once the facts are).
type event struct {
	node   ast.Node      // where to report it
	call   *ast.CallExpr // the call, if it is one
	wait   *hop          // the wait, if it is one
	callee *types.Func   // the function called, if it is not a known wait
	parent ast.Stmt      // the statement whose call (or whole right side) call is, for fixes
}

// walker collects the events of one function's code.
type walker struct {
	ck      *checker
	events  []event
	locals  map[*types.Var][]ast.Expr // local variables assigned func literals or functions
	inlined map[*ast.FuncLit]bool     // literals whose code is walked, against recursion
}

// collect returns the events of block, in source order, leaving out the code that runs
// elsewhere: the functions given to continuation.Blocking, future.Go, future.Hedge and
// future.HedgeWithin, go statements, and func literals, except those called in place
// (immediately, by defer, or through a local variable assigned them, each of them).
func (ck *checker) collect(block *ast.BlockStmt) []event {
	w := &walker{ck: ck, locals: localFuncs(ck.pass.TypesInfo, block), inlined: make(map[*ast.FuncLit]bool)}
	w.stmts(block.List)
	return w.events
}

// localFuncs maps the local variables of block assigned func literals, or function or
// method values, to all of them, in source order: a call of the variable may run any of
// them. What else the variable is assigned (a parameter, a call's result) is not followed.
func localFuncs(info *types.Info, block *ast.BlockStmt) map[*types.Var][]ast.Expr {
	locals := make(map[*types.Var][]ast.Expr)
	note := func(id *ast.Ident, rhs ast.Expr) {
		v, ok := info.ObjectOf(id).(*types.Var)
		if !ok || rhs == nil {
			return
		}
		switch r := ast.Unparen(rhs).(type) {
		case *ast.FuncLit:
			locals[v] = append(locals[v], r)
		case *ast.Ident, *ast.SelectorExpr:
			if fn := funcValue(info, r); fn != nil {
				locals[v] = append(locals[v], r)
			}
		}
	}
	ast.Inspect(block, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, lhs := range n.Lhs {
				if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
					note(id, n.Rhs[i])
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) != len(n.Values) {
				return true
			}
			for i, id := range n.Names {
				note(id, n.Values[i])
			}
		}
		return true
	})
	return locals
}

// funcValue returns the function or concrete method e denotes as a value, if it does.
func funcValue(info *types.Info, e ast.Expr) *types.Func {
	switch e := e.(type) {
	case *ast.Ident:
		fn, _ := info.Uses[e].(*types.Func)
		if fn != nil {
			return fn.Origin()
		}
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[e]; ok {
			if sel.Kind() != types.MethodVal || types.IsInterface(sel.Recv()) {
				return nil
			}
			if fn, ok := sel.Obj().(*types.Func); ok && !types.IsInterface(recvOf(fn)) {
				return fn.Origin()
			}
			return nil
		}
		fn, _ := info.Uses[e.Sel].(*types.Func) // pkg.F
		if fn != nil {
			return fn.Origin()
		}
	}
	return nil
}

// recvOf returns the type of fn's receiver, or nil.
func recvOf(fn *types.Func) types.Type {
	if r := fn.Signature().Recv(); r != nil {
		return r.Type()
	}
	return types.Typ[types.Invalid]
}

func (w *walker) add(ev event) { w.events = append(w.events, ev) }

func (w *walker) wait(node ast.Node, name string, k kind) {
	w.add(event{node: node, wait: &hop{Name: name, Kind: k}})
}

func (w *walker) stmts(list []ast.Stmt) {
	for _, s := range list {
		w.stmt(s)
	}
}

// stmt walks s: statements carry what a call's fix needs, and what select and go mean.
func (w *walker) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case nil:
	case *ast.ExprStmt:
		if call, ok := ast.Unparen(s.X).(*ast.CallExpr); ok {
			w.callExpr(call, s)
			return
		}
		w.expr(s.X)
	case *ast.AssignStmt:
		for _, l := range s.Lhs {
			w.expr(l)
		}
		if len(s.Rhs) == 1 {
			if call, ok := ast.Unparen(s.Rhs[0]).(*ast.CallExpr); ok {
				w.callExpr(call, s)
				return
			}
		}
		for _, r := range s.Rhs {
			w.expr(r)
		}
	case *ast.SendStmt:
		w.expr(s.Chan)
		w.expr(s.Value)
		w.wait(s, "channel send", kindChan)
	case *ast.SelectStmt:
		hasDefault := false
		for _, cc := range s.Body.List {
			if cc.(*ast.CommClause).Comm == nil {
				hasDefault = true
			}
		}
		if !hasDefault {
			w.wait(s, "select without default", kindChan)
		}
		for _, cc := range s.Body.List {
			cc := cc.(*ast.CommClause)
			switch comm := cc.Comm.(type) {
			case *ast.SendStmt:
				w.expr(comm.Chan)
				w.expr(comm.Value)
			case *ast.ExprStmt:
				w.commRecv(comm.X)
			case *ast.AssignStmt:
				for _, l := range comm.Lhs {
					w.expr(l)
				}
				if len(comm.Rhs) == 1 {
					w.commRecv(comm.Rhs[0])
				}
			}
			w.stmts(cc.Body)
		}
	case *ast.GoStmt:
		// The function runs on its own goroutine; its arguments are evaluated here.
		if sel, ok := ast.Unparen(s.Call.Fun).(*ast.SelectorExpr); ok {
			w.expr(sel.X)
		}
		for _, a := range s.Call.Args {
			w.expr(a)
		}
	case *ast.DeferStmt:
		w.callExpr(s.Call, nil)
	case *ast.RangeStmt:
		w.expr(s.X)
		if t := w.ck.pass.TypesInfo.TypeOf(s.X); t != nil {
			if _, ok := t.Underlying().(*types.Chan); ok {
				w.wait(s, "range over channel", kindChan)
			}
		}
		w.stmts(s.Body.List)
	case *ast.BlockStmt:
		w.stmts(s.List)
	case *ast.IfStmt:
		w.stmt(s.Init)
		w.expr(s.Cond)
		w.stmts(s.Body.List)
		w.stmt(s.Else)
	case *ast.ForStmt:
		w.stmt(s.Init)
		w.expr(s.Cond)
		w.stmt(s.Post)
		w.stmts(s.Body.List)
	case *ast.SwitchStmt:
		w.stmt(s.Init)
		w.expr(s.Tag)
		for _, cc := range s.Body.List {
			cc := cc.(*ast.CaseClause)
			for _, e := range cc.List {
				w.expr(e)
			}
			w.stmts(cc.Body)
		}
	case *ast.TypeSwitchStmt:
		w.stmt(s.Init)
		w.stmt(s.Assign)
		for _, cc := range s.Body.List {
			w.stmts(cc.(*ast.CaseClause).Body)
		}
	case *ast.LabeledStmt:
		w.stmt(s.Stmt)
	case *ast.CaseClause, *ast.CommClause:
		// reached through their statements
	default:
		// Return, IncDec, Decl, Branch, Empty: their expressions.
		w.expr(s)
	}
}

// commRecv walks the receive of a select case: the select is the wait, not the receive.
func (w *walker) commRecv(e ast.Expr) {
	if u, ok := ast.Unparen(e).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
		w.expr(u.X)
		return
	}
	w.expr(e)
}

// expr walks the expressions in n, which is not a statement walked by stmt.
func (w *walker) expr(n ast.Node) {
	if n == nil {
		return
	}
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // runs when called, if ever: see callExpr
		case *ast.CallExpr:
			w.callExpr(n, nil)
			return false
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				w.expr(n.X)
				w.wait(n, "channel receive", kindChan)
				return false
			}
		}
		return true
	})
}

// callExpr walks call, made by statement parent (nil inside an expression).
func (w *walker) callExpr(call *ast.CallExpr, parent ast.Stmt) {
	info := w.ck.pass.TypesInfo
	fun := ast.Unparen(call.Fun)
	args := call.Args
	if lit, ok := fun.(*ast.FuncLit); ok { // func() { ... }()
		w.exprs(args)
		w.inline(lit)
		return
	}
	if id, ok := fun.(*ast.Ident); ok { // a local closure
		if v, ok := info.Uses[id].(*types.Var); ok && len(w.locals[v]) > 0 {
			w.exprs(args)
			for _, target := range w.locals[v] {
				if lit, ok := target.(*ast.FuncLit); ok {
					w.inline(lit)
				} else if fn := funcValue(info, target); fn != nil {
					w.classify(call, fn, parent)
				}
			}
			return
		}
	}
	if tv, ok := info.Types[fun]; ok && tv.IsType() { // a conversion
		w.exprs(args)
		return
	}
	fn := typeutil.StaticCallee(info, call)
	if fn != nil {
		fn = fn.Origin()
	}
	// The receiver and arguments are evaluated here, whatever the call.
	switch f := fun.(type) {
	case *ast.Ident:
	case *ast.SelectorExpr:
		if _, isMethod := info.Selections[f]; isMethod {
			w.expr(f.X)
		}
	default:
		w.expr(f)
	}
	switch {
	case libFunc(fn, continuationPath, "Blocking"), libFunc(fn, futurePath, "Go"),
		libFunc(fn, futurePath, "Hedge"), libFunc(fn, futurePath, "HedgeWithin"):
		// The last argument runs off the slot; a func literal there is left out, and so
		// is a function value's callee.
		for i, a := range args {
			if i == len(args)-1 {
				if _, ok := ast.Unparen(a).(*ast.FuncLit); ok {
					continue
				}
				if funcValue(info, ast.Unparen(a)) != nil {
					continue
				}
			}
			w.expr(a)
		}
		return
	}
	w.exprs(args)
	w.classify(call, fn, parent)
}

// classify adds the event of call, of fn (nil if it is dynamic): a known wait, or a call
// that blocks if fn does.
func (w *walker) classify(call *ast.CallExpr, fn *types.Func, parent ast.Stmt) {
	if notWait(fn) {
		return
	}
	if wait, ok := knownWait(w.ck.pass.TypesInfo, call, fn); ok {
		w.add(event{node: call, call: call, wait: &wait, parent: parent})
		return
	}
	if fn != nil && !slotFree(fn) {
		w.add(event{node: call, call: call, callee: fn, parent: parent})
	}
}

func (w *walker) exprs(list []ast.Expr) {
	for _, e := range list {
		w.expr(e)
	}
}

// inline walks the code of lit where it is called.
func (w *walker) inline(lit *ast.FuncLit) {
	if w.inlined[lit] {
		return
	}
	w.inlined[lit] = true
	w.stmts(lit.Body.List)
}
