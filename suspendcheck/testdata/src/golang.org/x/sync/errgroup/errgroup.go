// Package errgroup is a stub of x/sync's, with the signatures the analyzer looks at. Go
// sends on the group's semaphore, as x/sync's does: it waits only once SetLimit is called.
package errgroup

type token struct{}

type Group struct{ sem chan token }

func (g *Group) Go(f func() error) {
	if g.sem != nil {
		g.sem <- token{}
	}
	go func() {
		defer g.done()
		_ = f()
	}()
}

func (g *Group) TryGo(f func() error) bool {
	if g.sem != nil {
		select {
		case g.sem <- token{}:
		default:
			return false
		}
	}
	go func() {
		defer g.done()
		_ = f()
	}()
	return true
}

func (g *Group) done() {
	if g.sem != nil {
		<-g.sem
	}
}

func (g *Group) SetLimit(n int) { g.sem = make(chan token, n) }

func (g *Group) Wait() error { return nil }
