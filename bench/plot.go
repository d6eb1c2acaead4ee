package main

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// drawPlot draws requests/s (above) and p99 latency (below) against the number of
// connections, one line per variant, to an SVG file.
func drawPlot(cfg config, rows []row, path string) error {
	title := fmt.Sprintf("scenario %s, upstream %v, W=%d", cfg.scenario, cfg.delay, cfg.workers)
	ylabel := "requests/s"
	if cfg.scenario == "overload" {
		title = fmt.Sprintf("scenario overload, %v of CPU per request, W=%d", cfg.cpu, cfg.workers)
		ylabel = "goodput (answers/s within the timeout)"
	}
	rps, err := linePlot(title, ylabel, cfg.variants, rows, func(r row) float64 { return r.RPS })
	if err != nil {
		return err
	}
	p99, err := linePlot("", "p99 latency (ms)", cfg.variants, rows, func(r row) float64 { return r.P99 })
	if err != nil {
		return err
	}
	canvas := vgsvg.New(7*vg.Inch, 8*vg.Inch)
	plots := [][]*plot.Plot{{rps}, {p99}}
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 2 * vg.Millimeter}
	cells := plot.Align(plots, tiles, draw.New(canvas))
	for i := range plots {
		plots[i][0].Draw(cells[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func linePlot(title, ylabel string, variants []string, rows []row, y func(row) float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "connections"
	if len(rows) > 0 && rows[0].OverloadStats != nil {
		p.X.Label.Text = "offered load (× capacity)"
	}
	p.Y.Label.Text = ylabel
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	// The x range is every row's, so that a plot with no point to draw (nothing served
	// in time, say) still has a range the log scale accepts.
	p.X.Min, p.X.Max = math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		p.X.Min, p.X.Max = min(p.X.Min, xOf(r)), max(p.X.Max, xOf(r))
	}
	for i, v := range variants {
		var pts plotter.XYs
		for _, r := range rows {
			if r.Variant == v && y(r) > 0 {
				pts = append(pts, plotter.XY{X: xOf(r), Y: y(r)})
			}
		}
		if len(pts) == 0 {
			continue
		}
		slices.SortFunc(pts, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		points.Color = plotutil.Color(i)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(v, line, points)
	}
	return p, nil
}

// xOf is where r goes on the x axis: its connections, or its offered load.
func xOf(r row) float64 {
	if r.OverloadStats != nil {
		return r.Load
	}
	return float64(r.Conns)
}
