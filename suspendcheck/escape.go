package suspendcheck

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

const escapeAdvice = "; a *continuation.C belongs to its body and may be used only by it, on its goroutine"

// escapes reports the *continuation.C variables that b lets out: used by a go statement's
// function or by a function given to a call that runs it on another goroutine (see
// elsewhere), sent on a channel, or stored where b does not own it (a package-level
// variable, a variable b captures, or what a parameter or captured variable points to).
// It looks at what is plainly written only, so as to report no false escape.
func (ck *checker) escapes(b body) {
	info := ck.pass.TypesInfo
	cVar := func(e ast.Expr) *types.Var {
		id, ok := ast.Unparen(e).(*ast.Ident)
		if !ok {
			return nil
		}
		if v, ok := info.Uses[id].(*types.Var); ok && isC(v.Type()) {
			return v
		}
		return nil
	}
	var locals map[*types.Var][]ast.Expr // made on the first call that runs a function elsewhere
	ast.Inspect(b.block, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			ck.goEscape(n, b, cVar)
		case *ast.CallExpr:
			where := elsewhere(typeutil.StaticCallee(info, n))
			if where == "" {
				return true
			}
			if locals == nil {
				locals = localFuncs(info, b.block)
			}
			ck.funcArgEscape(n, where, b, cVar, locals)
		case *ast.SendStmt:
			if v := cVar(n.Value); v != nil {
				ck.escape(n.Value, v.Name()+" escapes its body: sent on a channel"+escapeAdvice)
			}
		case *ast.AssignStmt:
			if n.Tok != token.ASSIGN || len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, lhs := range n.Lhs {
				v := carried(n.Rhs[i], cVar)
				if v == nil {
					continue
				}
				if where := ck.beyond(lhs, b); where != "" {
					ck.escape(n.Rhs[i], v.Name()+" escapes its body: stored in "+where+escapeAdvice)
				}
			}
		}
		return true
	})
}

// carried returns the *continuation.C variable e stores: itself, or as an element of an
// append, or as a field or element of a composite literal (or its address).
func carried(e ast.Expr, cVar func(ast.Expr) *types.Var) *types.Var {
	if v := cVar(e); v != nil {
		return v
	}
	switch e := ast.Unparen(e).(type) {
	case *ast.CallExpr:
		if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok && id.Name == "append" {
			for _, a := range e.Args[1:] {
				if v := cVar(a); v != nil {
					return v
				}
			}
		}
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			return carried(e.X, cVar)
		}
	case *ast.CompositeLit:
		for _, elt := range e.Elts {
			if kv, ok := elt.(*ast.KeyValueExpr); ok {
				elt = kv.Value
			}
			if v := cVar(elt); v != nil {
				return v
			}
		}
	}
	return nil
}

// beyond describes where an assignment to lhs stores beyond the body, or returns "".
func (ck *checker) beyond(lhs ast.Expr, b body) string {
	info := ck.pass.TypesInfo
	root := ast.Unparen(lhs)
	direct := true
	for {
		switch e := root.(type) {
		case *ast.SelectorExpr:
			if _, isField := info.Selections[e]; !isField {
				root = e.Sel // pkg.Var
				continue
			}
			root, direct = ast.Unparen(e.X), false
			continue
		case *ast.IndexExpr:
			root, direct = ast.Unparen(e.X), false
			continue
		case *ast.StarExpr:
			root, direct = ast.Unparen(e.X), false
			continue
		}
		break
	}
	id, ok := root.(*ast.Ident)
	if !ok {
		return ""
	}
	v, ok := info.ObjectOf(id).(*types.Var)
	if !ok {
		return ""
	}
	switch {
	case v.Parent() == ck.pass.Pkg.Scope() || v.Pkg() != ck.pass.Pkg:
		return "package-level variable " + v.Name()
	case v.Pos() < b.ftype.Pos() || v.Pos() >= b.block.End():
		return "variable " + v.Name() + " of an enclosing function"
	case direct:
		return ""
	case v.Pos() < b.ftype.End() && shared(v.Type()): // a parameter of the body
		return "what parameter " + v.Name() + " refers to"
	}
	return ""
}

// shared reports whether a value of type t refers to memory its holder does not own.
func shared(t types.Type) bool {
	switch t.Underlying().(type) {
	case *types.Pointer, *types.Map, *types.Slice, *types.Interface, *types.Chan:
		return true
	}
	return false
}

// goEscape reports a *continuation.C that a go statement's function uses: given as an
// argument or receiver (or held by a local receiver), or captured by a func literal.
func (ck *checker) goEscape(g *ast.GoStmt, b body, cVar func(ast.Expr) *types.Var) {
	for _, a := range g.Call.Args {
		if v := cVar(a); v != nil {
			ck.escape(a, v.Name()+" escapes its body into a goroutine"+escapeAdvice)
			return
		}
	}
	switch fun := ast.Unparen(g.Call.Fun).(type) {
	case *ast.SelectorExpr:
		_, isMethod := ck.pass.TypesInfo.Selections[fun]
		if v := cVar(fun.X); v != nil {
			ck.escape(fun.X, v.Name()+" escapes its body into a goroutine"+escapeAdvice)
		} else if h, v := ck.holder(fun.X, b, cVar); isMethod && v != nil {
			ck.escape(fun.X, v.Name()+" escapes its body into a goroutine: the go statement's method is bound to "+h.Name()+", which holds it"+escapeAdvice)
		}
	case *ast.FuncLit:
		if id, v := captured(fun, cVar); id != nil {
			ck.escape(id, v.Name()+" escapes its body into a goroutine: the go statement's function uses it"+escapeAdvice)
		}
	}
}

// escape reports an escape at node, once.
func (ck *checker) escape(node ast.Node, msg string) {
	if ck.escaped[node.Pos()] || ck.isIgnored(node.Pos()) {
		return
	}
	ck.escaped[node.Pos()] = true
	ck.pass.Report(analysis.Diagnostic{Pos: node.Pos(), End: node.End(), Message: msg})
}

// elsewhere describes where fn runs the function it is given, if fn is one of the calls
// known to run it on another goroutine, or returns "".
func elsewhere(fn *types.Func) string {
	if fn == nil || fn.Pkg() == nil {
		return ""
	}
	fn = fn.Origin()
	path, name := fn.Pkg().Path(), fn.Name()
	recv := recvName(fn)
	switch {
	case path == futurePath && recv == "" && oneOf(name, "Go", "Hedge", "HedgeWithin"):
		return "future." + name + "'s goroutine"
	case path == "golang.org/x/sync/errgroup" && recv == "Group" && oneOf(name, "Go", "TryGo"):
		return "(*errgroup.Group)." + name + "'s goroutine"
	case path == "time" && recv == "" && name == "AfterFunc",
		path == "context" && recv == "" && name == "AfterFunc":
		return path + ".AfterFunc's goroutine"
	case path == futurePath && recv == "Future" && oneOf(name, "OnDone", "AfterDone"):
		return "a callback of (*future.Future)." + name + ", which runs on the goroutine that settles the future"
	case path == futurePath && recv == "" && oneOf(name, "Then", "Catch"):
		return "a callback of future." + name + ", which runs on the goroutine that settles the future"
	}
	return ""
}

// funcArgEscape reports a *continuation.C that a function given to call, which runs it
// where describes, uses: captured by a func literal (given directly or through a local
// variable assigned it), or the receiver of a method value.
func (ck *checker) funcArgEscape(call *ast.CallExpr, where string, b body, cVar func(ast.Expr) *types.Var, locals map[*types.Var][]ast.Expr) {
	info := ck.pass.TypesInfo
	for _, a := range call.Args {
		a = ast.Unparen(a)
		if t := info.TypeOf(a); t == nil {
			continue
		} else if _, ok := t.Underlying().(*types.Signature); !ok {
			continue
		}
		var lits []*ast.FuncLit
		switch a := a.(type) {
		case *ast.FuncLit:
			lits = append(lits, a)
		case *ast.SelectorExpr:
			if sel, ok := info.Selections[a]; ok && sel.Kind() == types.MethodVal {
				if v := cVar(a.X); v != nil {
					ck.escape(a.X, v.Name()+" escapes its body into "+where+": the method value given to it is bound to it"+escapeAdvice)
				} else if h, v := ck.holder(a.X, b, cVar); v != nil {
					ck.escape(a.X, v.Name()+" escapes its body into "+where+": the method value given to it is bound to "+h.Name()+", which holds it"+escapeAdvice)
				}
			}
		case *ast.Ident:
			if v, ok := info.Uses[a].(*types.Var); ok {
				for _, e := range locals[v] {
					if lit, ok := e.(*ast.FuncLit); ok {
						lits = append(lits, lit)
					}
				}
			}
		}
		for _, lit := range lits {
			if id, v := captured(lit, cVar); id != nil {
				ck.escape(id, v.Name()+" escapes its body into "+where+": the function given to it uses it"+escapeAdvice)
			}
		}
	}
}

// captured returns the first use in lit of a *continuation.C variable declared outside it.
func captured(lit *ast.FuncLit, cVar func(ast.Expr) *types.Var) (*ast.Ident, *types.Var) {
	var (
		found *ast.Ident
		fv    *types.Var
	)
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		if v := cVar(id); v != nil && (v.Pos() < lit.Pos() || v.Pos() >= lit.End()) {
			found, fv = id, v
		}
		return true
	})
	return found, fv
}

// holder returns the local variable of b that e names, and the *continuation.C variable it
// plainly holds: assigned a value that carries it (see carried), or a field or element of
// it assigned it.
func (ck *checker) holder(e ast.Expr, b body, cVar func(ast.Expr) *types.Var) (*types.Var, *types.Var) {
	info := ck.pass.TypesInfo
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil, nil
	}
	h, ok := info.Uses[id].(*types.Var)
	if !ok || h.Pos() < b.block.Pos() || h.Pos() >= b.block.End() {
		return nil, nil
	}
	// root returns the variable lhs assigns, itself or through its fields and elements.
	root := func(lhs ast.Expr) *types.Var {
		for {
			switch x := ast.Unparen(lhs).(type) {
			case *ast.SelectorExpr:
				lhs = x.X
				continue
			case *ast.IndexExpr:
				lhs = x.X
				continue
			case *ast.StarExpr:
				lhs = x.X
				continue
			case *ast.Ident:
				v, _ := info.ObjectOf(x).(*types.Var)
				return v
			}
			return nil
		}
	}
	var held *types.Var
	ast.Inspect(b.block, func(n ast.Node) bool {
		if held != nil {
			return false
		}
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, lhs := range n.Lhs {
				if root(lhs) == h {
					if v := carried(n.Rhs[i], cVar); v != nil {
						held = v
					}
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) != len(n.Values) {
				return true
			}
			for i, name := range n.Names {
				if info.Defs[name] == h {
					if v := carried(n.Values[i], cVar); v != nil {
						held = v
					}
				}
			}
		}
		return true
	})
	return h, held
}
