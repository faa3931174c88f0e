package bench

import (
	"fmt"
	"image/color"
	"io"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WritePlot draws the round-trip latency CDFs of the report as a PNG:
// one panel per message size (columns) and per gap (rows: back-to-back,
// then with the idle gap), one line per transport, log-scaled time axis.
func (r *Report) WritePlot(w io.Writer) (err error) {
	// gonum/plot panics on some degenerate inputs; report those as errors.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bench: plot: %v", p)
		}
	}()
	gaps := []time.Duration{0}
	if r.Config.Gap > 0 {
		gaps = append(gaps, r.Config.Gap)
	}
	sizes := r.Config.Sizes
	if len(sizes) == 0 || len(r.Latency) == 0 {
		return fmt.Errorf("bench: plot: no latency results")
	}
	grid := make([][]*plot.Plot, len(gaps))
	for row, gap := range gaps {
		for _, size := range sizes {
			p, err := r.cdfPanel(size, gap)
			if err != nil {
				return err
			}
			grid[row] = append(grid[row], p)
		}
	}
	const panelW, panelH = 4.5 * vg.Inch, 3.5 * vg.Inch
	img := vgimg.New(panelW*vg.Length(len(sizes)), panelH*vg.Length(len(gaps)))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(gaps), Cols: len(sizes), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, dc)
	for row := range grid {
		for col, p := range grid[row] {
			p.Draw(canvases[row][col])
		}
	}
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// transportStyle gives every transport its own colour; the kernel
// transports are dashed.
var transportStyle = map[string]draw.LineStyle{
	TransportZBCopy:     {Color: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
	TransportZBZeroCopy: {Color: color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}},
	TransportZBBatch:    {Color: color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}},
	TransportChan:       {Color: color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}},
	TransportPipe:       {Color: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, Dashes: []vg.Length{vg.Points(4), vg.Points(2)}},
	TransportUDS:        {Color: color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, Dashes: []vg.Length{vg.Points(4), vg.Points(2)}},
	TransportTCP:        {Color: color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, Dashes: []vg.Length{vg.Points(4), vg.Points(2)}},
}

func (r *Report) cdfPanel(size int, gap time.Duration) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = FormatSize(size) + ", back-to-back"
	if gap > 0 {
		p.Title.Text = fmt.Sprintf("%s, %v gap", FormatSize(size), gap)
	}
	p.X.Label.Text = "round trip (µs)"
	p.Y.Label.Text = "fraction ≤ x"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	var any bool
	for _, l := range r.Latency {
		if l.Size != size || l.Gap != gap || len(l.CDF) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(l.CDF))
		for i, c := range l.CDF {
			xys[i].X, xys[i].Y = max(c.Nanos/1e3, 1e-3), c.Fraction
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("bench: plot: %w", err)
		}
		style := transportStyle[l.Transport]
		line.Color, line.Width, line.Dashes = style.Color, vg.Points(1.5), style.Dashes

		p.Add(line)
		p.Legend.Add(l.Transport, line)
		any = true
	}
	if any {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return p, nil
}
