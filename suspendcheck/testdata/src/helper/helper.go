// Package helper is called by the bodies of the other test packages: its facts carry its
// waits across packages.
package helper

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/future"
)

// Store is a repository whose methods query a database.
type Store struct{ db *sql.DB }

func (s *Store) query(ctx context.Context, id int) (string, error) { // want query:`blocks\(\(\*sql.DB\).QueryRowContext \(database/sql call\)\)`
	var name string
	err := s.db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", id).Scan(&name)
	return name, err
}

// Name returns the name of user id: two hops to the query.
func (s *Store) Name(ctx context.Context, id int) (string, error) { // want Name:`blocks\(\(\*helper.Store\).query → \(\*sql.DB\).QueryRowContext \(database/sql call\)\)`
	return s.query(ctx, id)
}

// Fetch calls url with http.Get.
func Fetch(url string) (*http.Response, error) { // want Fetch:`blocks\(http.Get \(net/http client call\)\)`
	return http.Get(url)
}

// Backoff sleeps d.
func Backoff(d time.Duration) { // want Backoff:`blocks\(time.Sleep \(sleep\)\)`
	time.Sleep(d)
}

// Result awaits f the wrong way: with its Await.
func Result(ctx context.Context, f *future.Future[int]) (int, error) { // want Result:`blocks\(\(\*future.Future\).Await\)`
	return f.Await(ctx)
}

// Start starts the fetch of url as a future: it does not block.
func Start(ctx context.Context, url string) *future.Future[*http.Response] {
	return future.Go(ctx, func(ctx context.Context) (*http.Response, error) { return Fetch(url) })
}

// Pure computes: it does not block.
func Pure(x int) int { return x * 2 }

// Spin runs its callback in the background: it does not block.
func Spin(fn func()) { go fn() }

// Generic receives from ch: a generic function blocks for every instance.
func Generic[T any](ch <-chan T) T { // want Generic:`blocks\(channel receive\)`
	return <-ch
}

// Queue is a generic type whose Pop blocks.
type Queue[T any] struct{ ch chan T }

func (q *Queue[T]) Pop() T { // want Pop:`blocks\(range over channel\)`
	for v := range q.ch {
		return v
	}
	var zero T
	return zero
}

// Level1 to Level6 make a chain longer than a message shows.
func Level1() { Level2() }                     // want Level1:`blocks\(helper.Level2 → helper.Level3 → helper.Level4 → helper.Level5 → helper.Level6 → time.Sleep \(sleep\)\)`
func Level2() { Level3() }                     // want Level2:`blocks\(helper.Level3 → helper.Level4 → helper.Level5 → helper.Level6 → time.Sleep \(sleep\)\)`
func Level3() { Level4() }                     // want Level3:`blocks\(helper.Level4 → helper.Level5 → helper.Level6 → time.Sleep \(sleep\)\)`
func Level4() { Level5() }                     // want Level4:`blocks\(helper.Level5 → helper.Level6 → time.Sleep \(sleep\)\)`
func Level5() { Level6() }                     // want Level5:`blocks\(helper.Level6 → time.Sleep \(sleep\)\)`
func Level6() { time.Sleep(time.Millisecond) } // want Level6:`blocks\(time.Sleep \(sleep\)\)`

// Slow is a plain handler that sleeps.
type Slow struct{}

func (Slow) ServeHTTP(w http.ResponseWriter, r *http.Request) { // want ServeHTTP:`blocks\(helper\.Backoff → time\.Sleep \(sleep\)\)`
	Backoff(time.Millisecond)
}

// Load is a body of its own: its wait is reported in it, and not to its callers.
func Load(c *continuation.C, id int) (string, error) { // want Load:`blocks\(time\.Sleep \(sleep\)\)`
	time.Sleep(time.Millisecond) // want `^Load blocks its slot: calls time\.Sleep`
	return continuation.Await(c, future.Ready("user"))
}
