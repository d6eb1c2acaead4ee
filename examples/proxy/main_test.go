package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestProxy: with one worker, 20 concurrent requests each fan out to three calls to a
// slow upstream; all 60 calls are under way at once, and every answer is whole.
func TestProxy(t *testing.T) {
	const requests = 20
	var inflight, most atomic.Int32
	allIn := make(chan struct{})
	var once sync.Once
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if n == 3*requests {
			once.Do(func() { close(allIn) })
		}
		select { // answer once every call has arrived: proof they were concurrent
		case <-allIn:
		case <-time.After(10 * time.Second):
		}
		inflight.Add(-1)
		if r.URL.Query().Get("part") == "fail" {
			http.Error(w, "nope", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "part "+r.URL.Query().Get("part"))
	}))
	defer upstream.Close()

	p := pool.New(1)
	s := continuation.NewScheduler(p)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	proxy := httptest.NewServer(handler(s, client, upstream.URL))
	defer func() {
		proxy.Close()
		client.CloseIdleConnections()
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	}()

	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			resp, err := proxy.Client().Get(proxy.URL)
			if !assert.NoError(t, err) {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "part 1\npart 2\npart 3\n", string(body))
		})
	}
	wg.Wait()
	proxy.Client().CloseIdleConnections()
	require.Equal(t, int32(3*requests), most.Load(), "all upstream calls were under way at once on one worker")
}

func TestProxyUpstreamDown(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer upstream.Close()
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	client := &http.Client{Transport: &http.Transport{}}
	proxy := httptest.NewServer(handler(s, client, upstream.URL))
	defer func() {
		proxy.Close()
		client.CloseIdleConnections()
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	}()
	resp, err := proxy.Client().Get(proxy.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	proxy.Client().CloseIdleConnections()
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	require.Equal(t, "Bad Gateway\n", string(body))
}
