module github.com/gosuspend/suspend/bench

go 1.25

replace github.com/gosuspend/suspend => ../

require (
	github.com/alitto/pond/v2 v2.7.1
	github.com/gosuspend/suspend v0.0.0-00010101000000-000000000000
	github.com/panjf2000/ants/v2 v2.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.19.0
)
