package future

import "github.com/gosuspend/suspend/internal/futurehook"

// idRegistrar is what futurehook needs of a *Future[T], for every T.
type idRegistrar interface {
	afterDoneID(fn func()) uint64
	stop(id uint64) bool
}

func init() {
	futurehook.AfterDone = func(a any, fn func()) (uint64, bool) {
		f, ok := a.(idRegistrar)
		if !ok {
			return 0, false
		}
		return f.afterDoneID(fn), true
	}
	futurehook.Stop = func(a any, id uint64) bool {
		return id != 0 && a.(idRegistrar).stop(id)
	}
}

// afterDoneID is AfterDone with the registration's id in place of the stop closure: 0 if
// fn has run or is bound to run.
func (f *Future[T]) afterDoneID(fn func()) uint64 {
	id, ok := f.register(callback[T]{fn: fn})
	if !ok {
		fn()
	}
	return id
}
