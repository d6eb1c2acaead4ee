package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosuspend/suspend/continuation"
	"github.com/gosuspend/suspend/pool"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestHello(t *testing.T) {
	p := pool.New(1)
	s := continuation.NewScheduler(p)
	srv := httptest.NewServer(routes(s))
	defer func() {
		srv.Close()
		require.NoError(t, s.Shutdown(context.Background()))
		require.NoError(t, p.Shutdown(context.Background()))
	}()
	for path, want := range map[string]string{"/hello": "Hi!\n", "/plain": "Hi from a plain handler!\n"} {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, want, string(body))
	}
	srv.Client().CloseIdleConnections()
}
