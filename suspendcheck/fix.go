package suspendcheck

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
)

// fix returns the suggested fix that wraps ev's call in continuation.Blocking, when b's
// *continuation.C is in scope by name at the call and the call is a statement or the whole
// right side of an assignment of its results:
//
//	time.Sleep(d)      →  _, _ = continuation.Blocking(c, func() (struct{}, error) { time.Sleep(d); return struct{}{}, nil })
//	x, err := f()      →  x, err := continuation.Blocking(c, func() (T, error) { return f() })
//	err = f()          →  _, err = continuation.Blocking(c, func() (struct{}, error) { return struct{}{}, f() })
//	x := g()           →  x, _ := continuation.Blocking(c, func() (T, error) { return g(), nil })
func (ck *checker) fix(file *ast.File, b body, ev event) []analysis.SuggestedFix {
	if b.c == nil || ev.call == nil || ev.parent == nil {
		return nil
	}
	pos := ev.call.Pos()
	if scope := ck.pass.Pkg.Scope().Innermost(pos); scope == nil {
		return nil
	} else if _, obj := scope.LookupParent(b.c.Name(), pos); obj != b.c {
		return nil // shadowed
	}
	names := importNames(ck.pass.TypesInfo, file)
	pkgName, ok := names[continuationPath]
	if !ok {
		return nil
	}
	src, err := ck.pass.ReadFile(ck.pass.Fset.File(pos).Name())
	if err != nil {
		return nil
	}
	text := func(n ast.Node) string {
		f := ck.pass.Fset.File(n.Pos())
		return string(src[f.Offset(n.Pos()):f.Offset(n.End())])
	}
	ok = true
	qualify := func(p *types.Package) string {
		if p == ck.pass.Pkg {
			return ""
		}
		name, found := names[p.Path()]
		if !found {
			ok = false
		}
		return name
	}
	call := text(ev.call)
	blocking := pkgName + ".Blocking(" + b.c.Name() + ", func() "
	var results []types.Type
	switch t := ck.pass.TypesInfo.TypeOf(ev.call).(type) {
	case nil:
		return nil
	case *types.Tuple:
		for v := range t.Variables() {
			results = append(results, v.Type())
		}
	default:
		results = []types.Type{t}
	}
	for _, t := range results {
		if !nameable(t, ck.pass.Pkg) {
			return nil // an unexported type of another package, a struct, a func
		}
	}
	errType := types.Universe.Lookup("error").Type()
	var repl string
	switch stmt := ev.parent.(type) {
	case *ast.ExprStmt:
		repl = "_, _ = " + blocking + "(struct{}, error) { " + call + "; return struct{}{}, nil })"
	case *ast.AssignStmt:
		if stmt.Tok != token.DEFINE && stmt.Tok != token.ASSIGN || len(stmt.Rhs) != 1 {
			return nil
		}
		op := " " + stmt.Tok.String() + " "
		switch {
		case len(results) == 2 && len(stmt.Lhs) == 2 && types.Identical(results[1], errType):
			repl = text(stmt.Lhs[0]) + ", " + text(stmt.Lhs[1]) + op + blocking +
				"(" + types.TypeString(results[0], qualify) + ", error) { return " + call + " })"
		case len(results) == 1 && len(stmt.Lhs) == 1 && types.Identical(results[0], errType):
			repl = "_, " + text(stmt.Lhs[0]) + op + blocking + "(struct{}, error) { return struct{}{}, " + call + " })"
		case len(results) == 1 && len(stmt.Lhs) == 1:
			repl = text(stmt.Lhs[0]) + ", _" + op + blocking +
				"(" + types.TypeString(results[0], qualify) + ", error) { return " + call + ", nil })"
		default:
			return nil
		}
	default:
		return nil
	}
	if !ok {
		return nil // a type of a package this file does not import
	}
	return []analysis.SuggestedFix{{
		Message:   "Wrap the call in continuation.Blocking",
		TextEdits: []analysis.TextEdit{{Pos: ev.parent.Pos(), End: ev.parent.End(), NewText: []byte(repl)}},
	}}
}

// nameable reports whether the fix may write t in pkg: a basic type, an exported named
// type or one of pkg, an empty interface, and pointers, slices, arrays, maps and
// channels of those.
func nameable(t types.Type, pkg *types.Package) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		return true
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() != nil && obj.Pkg() != pkg && !obj.Exported() {
			return false
		}
		for a := range t.TypeArgs().Types() {
			if !nameable(a, pkg) {
				return false
			}
		}
		return true
	case *types.TypeParam:
		return true
	case *types.Pointer:
		return nameable(t.Elem(), pkg)
	case *types.Slice:
		return nameable(t.Elem(), pkg)
	case *types.Array:
		return nameable(t.Elem(), pkg)
	case *types.Chan:
		return nameable(t.Elem(), pkg)
	case *types.Map:
		return nameable(t.Key(), pkg) && nameable(t.Elem(), pkg)
	case *types.Interface:
		return t.Empty()
	}
	return false
}

// importNames maps the path of each package file imports by name to that name.
func importNames(info *types.Info, file *ast.File) map[string]string {
	names := make(map[string]string)
	for _, spec := range file.Imports {
		pn := info.PkgNameOf(spec)
		if pn == nil || pn.Name() == "_" || pn.Name() == "." {
			continue
		}
		names[pn.Imported().Path()] = pn.Name()
	}
	return names
}
