package suspendcheck

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// knownWait reports whether call, of fn (nil for a dynamic call), is a wait the analyzer
// knows: one of the standard library's, x/sync's or the library's, I/O on a net.Conn, or a
// read of an upstream response's body (see responseBody).
// The standard library is not analyzed; this list is what it knows of it.
func knownWait(info *types.Info, call *ast.CallExpr, fn *types.Func) (hop, bool) {
	if fn == nil || fn.Pkg() == nil {
		// An interface method: the Read and Write of a net.Conn are known.
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
			if s, ok := info.Selections[sel]; ok && s.Kind() == types.MethodVal &&
				hasPrefix(sel.Sel.Name, "Read", "Write") && connLike(s.Recv()) {
				return hop{Name: "(net.Conn)." + sel.Sel.Name + " (network I/O)"}, true
			}
			// The Read of an upstream response's body: resp.Body.Read(buf).
			if sel.Sel.Name == "Read" {
				if owner, ok := responseBody(info, sel.X); ok {
					return hop{Name: owner + ".Body.Read (" + readsResponse + ")"}, true
				}
			}
		}
		return hop{}, false
	}
	path, name := fn.Pkg().Path(), fn.Name()
	recv := recvName(fn)
	// Name a method by the type it is called on: (*net.TCPConn).Write, not the
	// (*net.conn).Write it promotes.
	h := funcHop(fn)
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && recv != "" {
		if s, ok := info.Selections[sel]; ok {
			t := s.Recv()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			_, ptr := fn.Signature().Recv().Type().(*types.Pointer)
			if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil {
				h.PkgName, h.Name = n.Obj().Pkg().Name(), n.Obj().Name()+"."+name
				if ptr {
					h.Name = "(*" + h.Name[:len(n.Obj().Name())] + ")." + name
				}
			}
		}
	}
	qualified := h.PkgName + "." + h.Name
	if strings.HasPrefix(h.Name, "(*") {
		qualified = "(*" + h.PkgName + "." + h.Name[2:]
	}
	wait := func(what string) (hop, bool) { return hop{Name: qualified + " (" + what + ")"}, true }
	switch path {
	case "time":
		if recv == "" && name == "Sleep" {
			return wait("sleep")
		}
	case "net/http":
		switch {
		case recv == "" && oneOf(name, "Get", "Post", "Head", "PostForm"),
			recv == "Client" && oneOf(name, "Do", "Get", "Post", "Head", "PostForm"),
			recv == "Transport" && name == "RoundTrip":
			return wait("net/http client call")
		}
	case "io":
		// A read of an upstream response's body, given straight as the source:
		// io.ReadAll(resp.Body), io.Copy(w, resp.Body).
		src := -1
		switch {
		case recv == "" && oneOf(name, "ReadAll", "ReadFull", "ReadAtLeast"):
			src = 0
		case recv == "" && oneOf(name, "Copy", "CopyN", "CopyBuffer"):
			src = 1
		}
		if src >= 0 && src < len(call.Args) {
			if _, ok := responseBody(info, call.Args[src]); ok {
				return wait(readsResponse)
			}
		}
	case "encoding/json":
		// json.NewDecoder(resp.Body).Decode(&v): the decoder made in the same expression.
		if recv == "Decoder" && name == "Decode" {
			if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
				if mk, ok := ast.Unparen(sel.X).(*ast.CallExpr); ok && len(mk.Args) == 1 {
					if f := typeutil.StaticCallee(info, mk); f != nil && f.Pkg() != nil &&
						f.Pkg().Path() == "encoding/json" && f.Name() == "NewDecoder" {
						if _, ok := responseBody(info, mk.Args[0]); ok {
							return wait(readsResponse)
						}
					}
				}
			}
		}
	case "database/sql":
		switch {
		case oneOf(recv, "DB", "Tx", "Conn", "Stmt") && hasPrefix(name, "Query", "Exec", "Begin", "Prepare", "Ping"),
			recv == "DB" && name == "Conn",
			recv == "Tx" && oneOf(name, "Commit", "Rollback"),
			recv == "Row" && name == "Scan",
			// Rows are fetched from the server as they are iterated; Close, before the last
			// row, has the driver drain or cancel the rest, over the network.
			recv == "Rows" && oneOf(name, "Next", "NextResultSet", "Close"):
			return wait("database/sql call")
		}
	case "net":
		switch {
		case recv == "" && hasPrefix(name, "Dial", "Lookup"),
			oneOf(recv, "Dialer", "Resolver") && hasPrefix(name, "Dial", "Lookup"):
			return wait("network call")
		case strings.HasSuffix(recv, "Conn") && hasPrefix(name, "Read", "Write"),
			strings.HasSuffix(recv, "Listener") && hasPrefix(name, "Accept"):
			return wait("network I/O")
		}
	case "os":
		// The calls that open a file, or move its data or a directory's entries: the
		// list has os.ReadFile, which opens and reads, so os.Open, OpenFile and Create,
		// which open (on a FIFO, until the other end opens; on a network file system, for
		// the server), are waits as it is; and so are the reads of a directory. Calls on
		// metadata only (Stat, Lstat, Chmod, Remove, Rename, Mkdir) are left out: a
		// system call each, but no data moved.
		switch {
		case recv == "File" && oneOf(name, "Read", "ReadAt", "Write", "WriteAt", "WriteString", "ReadFrom", "WriteTo", "Sync",
			"ReadDir", "Readdir", "Readdirnames"),
			recv == "" && oneOf(name, "ReadFile", "WriteFile", "Open", "OpenFile", "Create", "ReadDir"):
			return wait("file I/O")
		}
	case "os/exec":
		if recv == "Cmd" && oneOf(name, "Run", "Wait", "Output", "CombinedOutput") {
			return wait("waits for a process")
		}
	case "sync":
		if oneOf(recv, "WaitGroup", "Cond") && name == "Wait" {
			return wait("waits for other goroutines")
		}
	case "golang.org/x/sync/semaphore":
		if recv == "Weighted" && name == "Acquire" {
			return wait("semaphore wait")
		}
	case "golang.org/x/sync/errgroup":
		if recv == "Group" && name == "Wait" {
			return wait("waits for other goroutines")
		}
	case "golang.org/x/sync/singleflight":
		if recv == "Group" && name == "Do" {
			return wait("waits for another caller")
		}
	case futurePath:
		switch {
		case recv == "Future" && name == "Await":
			return hop{Name: "(*future.Future).Await", Kind: kindFuture}, true
		case recv == "" && name == "Completed":
			// The call makes the iterator; the loop that ranges over it waits.
			return hop{Name: "future.Completed (waits for the futures as it is ranged over)", Kind: kindIter}, true
		}
	case continuationPath:
		switch {
		case recv == "" && name == "Run":
			return wait("waits for a slot while the body holds one")
		case recv == "Scheduler" && name == "Shutdown":
			return wait("waits for the continuations to end")
		}
	case httpadapterPath:
		if recv == "" && name == "Shutdown" {
			return wait("waits for the server and the continuations to end")
		}
	case poolPath:
		switch {
		case recv == "Pool" && oneOf(name, "Acquire", "AcquireAt", "Reacquire"):
			return wait("waits for a slot while the body holds one")
		case recv == "Pool" && name == "Shutdown":
			return wait("waits for the pool to drain")
		}
	}
	if r := fn.Signature().Recv(); r != nil && hasPrefix(name, "Read", "Write") && connLike(r.Type()) {
		return wait("network I/O") // a net.Conn of another package: *tls.Conn, a wrapper
	}
	return hop{}, false
}

// readsResponse is what a read of an upstream response's body waits for.
const readsResponse = "reads an upstream response's body: network I/O"

// responseBody reports whether e is, as written, the Body of a net/http.Response (resp.Body,
// for resp an *http.Response, an http.Response, or a struct that embeds one), and returns
// the name of the type it is read on: "(*http.Response)" or "http.Response". A request's
// Body is not (httpadapter makes its reads slot-free), nor a body held in a variable or
// wrapped in a reader.
func responseBody(info *types.Info, e ast.Expr) (string, bool) {
	sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Body" {
		return "", false
	}
	s, ok := info.Selections[sel]
	if !ok || s.Kind() != types.FieldVal {
		return "", false
	}
	// The struct that declares the field: the last on the path through embedded fields.
	t := s.Recv()
	for _, i := range s.Index()[:len(s.Index())-1] {
		st, ok := deref(t).Underlying().(*types.Struct)
		if !ok {
			return "", false
		}
		t = st.Field(i).Type()
	}
	n, ok := types.Unalias(deref(t)).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != "net/http" || n.Obj().Name() != "Response" {
		return "", false
	}
	if _, ptr := types.Unalias(t).(*types.Pointer); ptr {
		return "(*http.Response)", true
	}
	return "http.Response", true
}

// deref returns the element type of t if it is a pointer, or t.
func deref(t types.Type) types.Type {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// notWait reports whether fn is a call the analyzer knows not to wait, though its code
// may: (*errgroup.Group).Go and TryGo start a goroutine. (Go waits for a goroutine to end
// when the group's limit, set by SetLimit, is reached: a limit of the analyzer.)
func notWait(fn *types.Func) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "golang.org/x/sync/errgroup" {
		return false
	}
	r := fn.Signature().Recv()
	if r == nil {
		return false
	}
	t := r.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Name() == "Group" && oneOf(fn.Name(), "Go", "TryGo")
}

// slotFree reports whether fn is a function of the library that a body calls without
// waiting on its slot. The library's packages are not analyzed: what they do is known.
func slotFree(fn *types.Func) bool {
	if fn.Pkg() == nil {
		return false
	}
	return libPackage(fn.Pkg().Path())
}

// libPackage reports whether path is one of the library's packages (not its examples,
// benchmarks or tools).
func libPackage(path string) bool {
	rest, ok := strings.CutPrefix(path, libPath+"/")
	if !ok {
		return false
	}
	first, _, _ := strings.Cut(rest, "/")
	return oneOf(first, "continuation", "future", "httpadapter", "pool", "internal")
}

// connLike reports whether t has the method set of a net.Conn: its Read and Write are
// network I/O, whatever its type.
func connLike(t types.Type) bool {
	for _, m := range []string{"Read", "Write", "Close", "LocalAddr", "RemoteAddr", "SetDeadline", "SetReadDeadline", "SetWriteDeadline"} {
		obj, _, _ := types.LookupFieldOrMethod(t, true, nil, m)
		if _, ok := obj.(*types.Func); !ok {
			return false
		}
	}
	return true
}

func oneOf(s string, list ...string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
}

func hasPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// recvName is the name of the type of fn's receiver, pointer or not, or "" for a function.
func recvName(fn *types.Func) string {
	r := fn.Signature().Recv()
	if r == nil {
		return ""
	}
	t := r.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}
