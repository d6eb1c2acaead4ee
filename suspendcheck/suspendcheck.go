// Package suspendcheck reports the waits that hold a continuation's pool slot: a blocking
// call, a channel operation or a (*future.Future).Await made in a body, or in a function a
// body calls, outside continuation.Blocking; and a *continuation.C used outside its body. It is to package continuation what
// Temporal's workflowcheck is to a workflow: a go/analysis checker that follows calls
// across packages and names the chain that leads to the wait.
package suspendcheck

import (
	"go/ast"
	"go/build"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// Analyzer reports the waits that hold a continuation's slot. See its Doc.
var Analyzer = &analysis.Analyzer{
	Name:      "suspendcheck",
	Doc:       doc,
	URL:       "https://github.com/gosuspend/suspend/tree/main/suspendcheck",
	Run:       run,
	FactTypes: []analysis.Fact{new(blocksFact)},
}

const doc = `report waits that hold a continuation's pool slot

A body (a function given to continuation.Run, continuation.Spawn, httpadapter.New or
httpadapter.Wrap, or any function with a *continuation.C parameter) frees its pool
slot only while it waits in continuation.Await, (*continuation.C).Await or
continuation.Blocking. suspendcheck reports, at the call site in the body, every other
wait made by the body or by the functions it calls, with the chain of calls that leads
to it:

	handler blocks its slot: calls fetch → (*http.Client).Do (net/http client call); wrap it in continuation.Blocking or await a future

It knows these waits: time.Sleep; net/http client calls; the reads of an upstream
response's body, which wait on the network: its Read, io.ReadAll, ReadFull, ReadAtLeast,
Copy, CopyN and CopyBuffer with it as their source, and the Decode of a json.Decoder made
on it in the same expression, json.NewDecoder(resp.Body).Decode(&v), where the body is
written as the selector X.Body, X an http.Response, a pointer to one or a struct that
embeds one (a body held in a variable, or wrapped in another reader or decoder, as
io.LimitReader(resp.Body, n), is not followed); database/sql queries, execs,
transactions, (*sql.Row).Scan, and (*sql.Rows).Next, NextResultSet and Close, which fetch
rows from the server or have the driver drain them; net.Conn I/O, dials and DNS lookups;
file I/O: os.Open, OpenFile, Create, ReadFile, WriteFile and ReadDir, *os.File reads,
writes, Sync and ReadDir, Readdir and Readdirnames (not the calls on metadata only, such
as os.Stat); os/exec Run, Wait, Output and CombinedOutput; (*sync.WaitGroup).Wait and
(*sync.Cond).Wait; golang.org/x/sync's semaphore Acquire, errgroup Wait and
singleflight Do; channel sends and receives, range over a channel, select without
default; (*future.Future).Await, where continuation.Await is meant; future.Completed,
whose iterator waits as it is ranged over (reported at the call); a nested
continuation.Run; (*continuation.Scheduler).Shutdown, httpadapter.Shutdown, and
(*pool.Pool).Acquire, AcquireAt, Reacquire and Shutdown. Calls are followed through
functions and methods called statically, across packages (through analysis facts), but
not through interface methods or function values, except closures and functions held in
a local variable: a call of one follows every func literal and function assigned to it in
the function. The standard library and the library's own packages are not analyzed:
what they do is known by the list above.

A function with a *continuation.C parameter is a body itself: its waits are reported in
it, once, and not to its callers, which call it with their own *continuation.C (wrapped
in Blocking, it would Await while its continuation is already waiting, and panic).

Not reported: code in a function given to continuation.Blocking, future.Go, future.Hedge
or future.HedgeWithin, or run by a go statement, or a func literal not called in place
(given to errgroup's Go, time.AfterFunc, a future's callbacks); (*errgroup.Group).Go and
TryGo, which start a goroutine (a limit: after SetLimit, Go waits while the group is
full); the I/O of an http.ResponseWriter and of a request's Body (r.Body, for r an
*http.Request), which httpadapter makes slot-free.

It also reports a *continuation.C that escapes its body: used by a go statement's
function, or by a function given to future.Go, future.Hedge, future.HedgeWithin,
errgroup's (*Group).Go and TryGo, time.AfterFunc or context.AfterFunc (which run it on
another goroutine), or to (*future.Future).OnDone and AfterDone, future.Then and
future.Catch (which run it on the goroutine that settles the future): a func literal
that uses it, directly or through a local variable, or a method value bound to it or to
a local variable that plainly holds it; sent on a channel; or stored in a package-level
variable or in what the body does not own.

The advice of a report depends on the body: a handler given to httpadapter.Wrap, which
has no *continuation.C, is to be rewritten with httpadapter.New; a body whose
*continuation.C parameter is unnamed or _ is to name it, to wait with it.

A comment //suspendcheck:ignore on the line of a report, or alone on the line above it,
silences it; in a function a body calls, it keeps the wait out of the chains of its
callers. Where the body's *continuation.C is in scope and the call is a statement or
the right side of an assignment, a suggested fix wraps the call in continuation.Blocking.`

// The packages of the library whose names the analyzer knows.
const (
	libPath          = "github.com/gosuspend/suspend"
	continuationPath = libPath + "/continuation"
	futurePath       = libPath + "/future"
	httpadapterPath  = libPath + "/httpadapter"
	poolPath         = libPath + "/pool"
)

// blocksFact is the fact of a function that may hold its caller's slot: the chain from
// its first such wait, in source order, down to the wait itself (the last hop).
type blocksFact struct {
	Chain []hop
}

// A hop is one step of a chain: a function called, or, last, the wait.
type hop struct {
	Pkg     string // the path of the package of a function; empty for the wait
	PkgName string // its name
	Name    string // "fetch", "(*T).Get", or the wait: "time.Sleep (sleep)"
	Kind    kind   // of the wait, for the last hop
}

// A kind tells which advice a wait calls for.
type kind uint8

const (
	kindCall   kind = iota // a call that blocks: wrap it in Blocking
	kindChan               // a channel operation or select: await a future
	kindFuture             // (*future.Future).Await: use continuation.Await
	kindIter               // future.Completed: await a combination, or range in Blocking
)

func (*blocksFact) AFact() {}

func (f *blocksFact) String() string { return "blocks(" + render(f.Chain, "") + ")" }

// maxHops bounds the chains kept in facts: the first hops and the last two (the wait and
// the function that makes it) are kept, with "…" between.
const maxHops = 6

// extend returns the chain of a call of fn whose own chain is sub.
func extend(fn hop, sub []hop) []hop {
	chain := append([]hop{fn}, sub...)
	if len(chain) > maxHops {
		chain = append(append(chain[:3:3], hop{Name: "…"}), chain[len(chain)-2:]...)
	}
	return chain
}

// render writes chain with the names of functions of package cur unqualified.
func render(chain []hop, cur string) string {
	parts := make([]string, len(chain))
	for i, h := range chain {
		parts[i] = h.Name
		if h.Pkg != "" && h.Pkg != cur {
			if strings.HasPrefix(h.Name, "(*") {
				parts[i] = "(*" + h.PkgName + "." + h.Name[2:]
			} else {
				parts[i] = h.PkgName + "." + h.Name
			}
		}
	}
	return strings.Join(parts, " → ")
}

// funcHop names fn as a hop of a chain.
func funcHop(fn *types.Func) hop {
	h := hop{Name: fn.Name()}
	if pkg := fn.Pkg(); pkg != nil {
		h.Pkg, h.PkgName = pkg.Path(), pkg.Name()
	}
	if recv := fn.Signature().Recv(); recv != nil {
		t := recv.Type()
		ptr := false
		if p, ok := t.(*types.Pointer); ok {
			t, ptr = p.Elem(), true
		}
		tname := types.TypeString(t, func(*types.Package) string { return "" })
		if n, ok := types.Unalias(t).(*types.Named); ok {
			tname = n.Obj().Name()
		}
		if ptr {
			h.Name = "(*" + tname + ")." + fn.Name()
		} else {
			h.Name = tname + "." + fn.Name()
		}
	}
	return h
}

// skipPackage reports whether pkg is left to the list of known waits: the standard
// library, and the library itself, which is made to be called from bodies.
func skipPackage(pass *analysis.Pass) bool {
	path := pass.Pkg.Path()
	if libPackage(path) {
		return true
	}
	if strings.Contains(strings.SplitN(path, "/", 2)[0], ".") || len(pass.Files) == 0 {
		return false
	}
	goroot := build.Default.GOROOT
	if goroot == "" {
		return false
	}
	name := pass.Fset.File(pass.Files[0].Pos()).Name()
	rel, err := filepath.Rel(filepath.Join(goroot, "src"), name)
	return err == nil && !strings.HasPrefix(rel, "..")
}

// A body is a function that runs as a continuation.
type body struct {
	name  string
	ftype *ast.FuncType
	block *ast.BlockStmt
	c     *types.Var // its *continuation.C parameter, if it has one by name
	plain bool       // a plain handler given to httpadapter.Wrap, with no *continuation.C
}

// checker holds one pass's state.
type checker struct {
	pass    *analysis.Pass
	decls   map[*types.Func]*ast.FuncDecl
	events  map[*types.Func][]event
	facts   map[*types.Func]*blocksFact
	ignored map[string]map[int]int // file name → lines with //suspendcheck:ignore (see scanIgnores)
	escaped map[token.Pos]bool     // the escapes reported, once each
}

func run(pass *analysis.Pass) (any, error) {
	if skipPackage(pass) {
		return nil, nil
	}
	ck := &checker{
		pass:    pass,
		decls:   make(map[*types.Func]*ast.FuncDecl),
		events:  make(map[*types.Func][]event),
		facts:   make(map[*types.Func]*blocksFact),
		ignored: make(map[string]map[int]int),
		escaped: make(map[token.Pos]bool),
	}
	var fns []*types.Func
	for _, file := range pass.Files {
		ck.scanIgnores(file)
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if !ok {
				continue
			}
			ck.decls[fn] = fd
			fns = append(fns, fn)
		}
	}
	for _, fn := range fns {
		ck.events[fn] = ck.collect(ck.decls[fn].Body)
	}
	// The facts of this package's functions, to a fixpoint: a function blocks if one of
	// its events blocks, and a call's event blocks once its callee is known to. A wait
	// silenced by //suspendcheck:ignore makes no fact: its callers are not told of it.
	for changed := true; changed; {
		changed = false
		for _, fn := range fns {
			if ck.facts[fn] != nil {
				continue
			}
			for _, ev := range ck.events[fn] {
				if ck.isIgnored(ev.node.Pos()) {
					continue
				}
				if chain := ck.resolve(ev); chain != nil {
					ck.facts[fn] = &blocksFact{Chain: chain}
					changed = true
					break
				}
			}
		}
	}
	for _, fn := range fns {
		if f := ck.facts[fn]; f != nil {
			pass.ExportObjectFact(fn, f)
		}
	}

	for _, file := range pass.Files {
		for _, b := range ck.bodies(file) {
			ck.checkBody(file, b)
		}
	}
	return nil, nil
}

// resolve returns the chain of ev if it blocks, or nil.
func (ck *checker) resolve(ev event) []hop {
	if ev.wait != nil {
		return []hop{*ev.wait}
	}
	if ev.callee == nil || takesC(ev.callee) {
		// A function with a *continuation.C parameter is a body itself, whose waits are
		// reported in it: its callers are not told of them. (Wrapping its call in
		// Blocking would make it Await on a continuation that is already waiting.)
		return nil
	}
	f := ck.facts[ev.callee]
	if f == nil {
		if _, local := ck.decls[ev.callee]; !local {
			var imported blocksFact
			if ck.pass.ImportObjectFact(ev.callee, &imported) {
				f = &imported
			}
		}
	}
	if f == nil {
		return nil
	}
	return extend(funcHop(ev.callee), f.Chain)
}

// isC reports whether t is *continuation.C.
func isC(t types.Type) bool {
	p, ok := types.Unalias(t).(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := types.Unalias(p.Elem()).(*types.Named)
	return ok && n.Obj().Name() == "C" && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == continuationPath
}

// takesC reports whether fn has a *continuation.C parameter.
func takesC(fn *types.Func) bool {
	for v := range fn.Signature().Params().Variables() {
		if isC(v.Type()) {
			return true
		}
	}
	return false
}

// cParam returns the *continuation.C parameter of ft, if it has one.
func (ck *checker) cParam(ft *ast.FuncType) (*types.Var, bool) {
	found := false
	var v *types.Var
	for _, field := range ft.Params.List {
		if !isC(ck.pass.TypesInfo.TypeOf(field.Type)) {
			continue
		}
		found = true
		for _, name := range field.Names {
			if obj, ok := ck.pass.TypesInfo.Defs[name].(*types.Var); ok && name.Name != "_" {
				v = obj
			}
		}
	}
	return v, found
}

// libFunc reports whether fn is the function or method name of the library's package
// path.
func libFunc(fn *types.Func, path, name string) bool {
	return fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == path && fn.Name() == name
}

// bodies returns the bodies declared in file: the functions with a *continuation.C
// parameter, and the handlers given to httpadapter.Wrap.
func (ck *checker) bodies(file *ast.File) []body {
	info := ck.pass.TypesInfo
	handlers := make(map[*ast.FuncLit]bool) // the literals given to httpadapter.New
	var out []body
	seen := make(map[*ast.BlockStmt]bool)
	add := func(b body) {
		if b.block != nil && !seen[b.block] {
			seen[b.block] = true
			out = append(out, b)
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fn := typeutil.StaticCallee(info, call)
		switch {
		case libFunc(fn, httpadapterPath, "New") && len(call.Args) > 1:
			if lit, ok := ast.Unparen(call.Args[1]).(*ast.FuncLit); ok {
				handlers[lit] = true
			}
		case libFunc(fn, httpadapterPath, "Wrap") && len(call.Args) > 1:
			ck.wrapped(call.Args[1], add)
		}
		return true
	})
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Body == nil {
				return true
			}
			if c, ok := ck.cParam(n.Type); ok {
				name := n.Name.Name
				if fn, ok := info.Defs[n.Name].(*types.Func); ok {
					name = funcHop(fn).Name
				}
				add(body{name: name, ftype: n.Type, block: n.Body, c: c})
			}
		case *ast.FuncLit:
			if c, ok := ck.cParam(n.Type); ok {
				name := "body"
				if handlers[n] {
					name = "handler"
				}
				add(body{name: name, ftype: n.Type, block: n.Body, c: c})
			}
		}
		return true
	})
	return out
}

// wrapped finds the body of the http.Handler h given to httpadapter.Wrap: the function
// converted to http.HandlerFunc, or the ServeHTTP method of h's type, when it is declared
// in this package.
func (ck *checker) wrapped(h ast.Expr, add func(body)) {
	info := ck.pass.TypesInfo
	h = ast.Unparen(h)
	var fn *types.Func
	if conv, ok := h.(*ast.CallExpr); ok && len(conv.Args) == 1 && info.Types[conv.Fun].IsType() {
		switch arg := ast.Unparen(conv.Args[0]).(type) {
		case *ast.FuncLit:
			add(body{name: "handler", ftype: arg.Type, block: arg.Body, plain: true})
			return
		case *ast.Ident:
			fn, _ = info.Uses[arg].(*types.Func)
		case *ast.SelectorExpr:
			fn, _ = info.Uses[arg.Sel].(*types.Func)
		}
	} else if t := info.TypeOf(h); t != nil {
		obj, _, _ := types.LookupFieldOrMethod(t, true, ck.pass.Pkg, "ServeHTTP")
		fn, _ = obj.(*types.Func)
	}
	if fn == nil {
		return
	}
	fn = fn.Origin()
	if fd, ok := ck.decls[fn]; ok {
		add(body{name: funcHop(fn).Name, ftype: fd.Type, block: fd.Body, plain: true})
		return
	}
	// Declared elsewhere: report its wait at the argument.
	if chain := ck.resolve(event{node: h, callee: fn}); chain != nil {
		ck.report(h, "handler", chain, nil, advicePlain)
	}
}

// checkBody reports the waits of b, and its *continuation.C's escapes.
func (ck *checker) checkBody(file *ast.File, b body) {
	seen := make(map[token.Pos]bool)
	for _, ev := range ck.collect(b.block) {
		if seen[ev.node.Pos()] {
			continue // one report for a.b().c(), at a.b()
		}
		if chain := ck.resolve(ev); chain != nil {
			seen[ev.node.Pos()] = true
			var fix []analysis.SuggestedFix
			if ev.wait == nil || ev.wait.Kind == kindCall {
				fix = ck.fix(file, b, ev)
			}
			mode := adviceBody
			switch {
			case b.plain:
				mode = advicePlain
			case b.c == nil:
				mode = adviceUnnamed
			}
			ck.report(ev.node, b.name, chain, fix, mode)
		}
	}
	if b.c != nil {
		ck.escapes(b)
	}
}

// An adviceMode tells how the body of a report may wait without its slot.
type adviceMode uint8

const (
	adviceBody    adviceMode = iota // a body with its *continuation.C by name
	advicePlain                     // a plain handler given to Wrap: no *continuation.C
	adviceUnnamed                   // a body whose *continuation.C is unnamed or _
)

// report reports the wait of chain at node, in the body named name; mode tells whether
// the body has a *continuation.C to wait with.
func (ck *checker) report(node ast.Node, name string, chain []hop, fix []analysis.SuggestedFix, mode adviceMode) {
	if ck.isIgnored(node.Pos()) {
		return
	}
	shown := chain
	if len(shown) > 5 {
		shown = append(append(shown[:3:3], hop{Name: "…"}), shown[len(shown)-1])
	}
	last := chain[len(chain)-1]
	what := "calls " + render(shown, ck.pass.Pkg.Path())
	if len(chain) == 1 && last.Kind == kindChan {
		what = last.Name // "channel receive"
	}
	var advice string
	switch {
	case mode == advicePlain:
		advice = "rewrite the handler with httpadapter.New, and wrap the wait in continuation.Blocking or await a future"
	case last.Kind == kindFuture && len(chain) == 1:
		what += ", which holds it"
		advice = "use continuation.Await(c, f)"
	case last.Kind == kindFuture:
		advice = "use continuation.Await(c, f) instead of (*future.Future).Await"
	case last.Kind == kindIter && len(chain) == 1:
		advice = "await with continuation.Await on future.Join/All/Any, or range over it in continuation.Blocking"
	case last.Kind == kindChan && len(chain) == 1:
		advice = "await a future with continuation.Await, or wait in continuation.Blocking"
	case mode == adviceUnnamed:
		advice = "name its *continuation.C parameter and wrap the wait in continuation.Blocking, or await a future"
	default:
		advice = "wrap it in continuation.Blocking or await a future"
	}
	if mode == adviceUnnamed && !strings.HasPrefix(advice, "name ") {
		advice = "name its *continuation.C parameter, and " + advice
	}
	ck.pass.Report(analysis.Diagnostic{Pos: node.Pos(), End: node.End(), Message: name + " blocks its slot: " + what + "; " + advice, SuggestedFixes: fix})
}

// scanIgnores records the lines of file's //suspendcheck:ignore comments: 1 for a comment
// after code, which silences its line, 2 for a comment alone on its line, which silences
// the next line too.
func (ck *checker) scanIgnores(file *ast.File) {
	for _, cg := range file.Comments {
		for _, c := range cg.List {
			if !strings.HasPrefix(c.Text, "//suspendcheck:ignore") {
				continue
			}
			p := ck.pass.Fset.Position(c.Pos())
			if ck.ignored[p.Filename] == nil {
				ck.ignored[p.Filename] = make(map[int]int)
			}
			ck.ignored[p.Filename][p.Line] = 1
			if src, err := ck.pass.ReadFile(p.Filename); err == nil && p.Offset <= len(src) {
				before := src[p.Offset-(p.Column-1) : p.Offset]
				if len(strings.TrimSpace(string(before))) == 0 {
					ck.ignored[p.Filename][p.Line] = 2
				}
			}
		}
	}
}

// isIgnored reports whether a //suspendcheck:ignore comment is on pos's line, or alone on
// the line above.
func (ck *checker) isIgnored(pos token.Pos) bool {
	p := ck.pass.Fset.Position(pos)
	lines := ck.ignored[p.Filename]
	return lines[p.Line] != 0 || lines[p.Line-1] == 2
}
