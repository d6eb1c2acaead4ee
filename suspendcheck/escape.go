package suspendcheck

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

const escapeAdvice = "; a *continuation.C belongs to its body and may be used only by it, on its goroutine"

// escapes reports the *continuation.C variables that b lets out: used by a go statement's
// function, sent on a channel, or stored where b does not own it (a package-level
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
	ast.Inspect(b.block, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			ck.goEscape(n, cVar)
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
// argument or receiver, or captured by a func literal.
func (ck *checker) goEscape(g *ast.GoStmt, cVar func(ast.Expr) *types.Var) {
	for _, a := range g.Call.Args {
		if v := cVar(a); v != nil {
			ck.escape(a, v.Name()+" escapes its body into a goroutine"+escapeAdvice)
			return
		}
	}
	switch fun := ast.Unparen(g.Call.Fun).(type) {
	case *ast.SelectorExpr:
		if v := cVar(fun.X); v != nil {
			ck.escape(fun.X, v.Name()+" escapes its body into a goroutine"+escapeAdvice)
		}
	case *ast.FuncLit:
		reported := false
		ast.Inspect(fun.Body, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok || reported {
				return !reported
			}
			v := cVar(id)
			if v == nil || v.Pos() >= fun.Pos() && v.Pos() < fun.End() {
				return true
			}
			ck.escape(id, v.Name()+" escapes its body into a goroutine: the go statement's function uses it"+escapeAdvice)
			reported = true
			return false
		})
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
