package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Font sizes are chosen for reading the PNG at its natural size (96 dpi) in a Markdown viewer.
const (
	titleSize  = 14
	labelSize  = 12
	tickSize   = 10
	legendSize = 11
	tileTitle  = 10
	cellSize   = 9
)

// dpi of every figure: gonum's default, so a figure's inches are its natural on-screen size.
const dpi = 96

func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = titleSize
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = labelSize
	p.Y.Label.TextStyle.Font.Size = labelSize
	p.X.Tick.Label.Font.Size = tickSize
	p.Y.Tick.Label.Font.Size = tickSize
	p.Legend.TextStyle.Font.Size = legendSize
	return p
}

// textStyle is a plain text style in the plots' font.
func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(plot.DefaultFont, size),
		Handler: plot.DefaultTextHandler,
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
	}
}

// figure lays out plots on a grid under an optional overall title and renders a PNG. Nil entries
// leave their tile empty.
func figure(title string, plots [][]*plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	// A white background: PNGs are often viewed on dark themes, where transparency hides black text.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	if title != "" {
		lines := float64(strings.Count(title, "\n") + 1)
		band := vg.Length(0.2+0.25*lines) * vg.Inch
		dc.FillText(textStyle(titleSize+2, color.Black), vg.Point{X: w / 2, Y: h - band/2}, title)
		dc = draw.Crop(dc, 0, 0, 0, -band)
	}
	rows := len(plots)
	cols := 0
	for _, r := range plots {
		cols = max(cols, len(r))
	}
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
		copy(grid[i], plots[i])
	}
	tiles := draw.Tiles{
		Rows: rows, Cols: cols,
		PadX: vg.Points(6), PadY: vg.Points(6),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4),
	}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// imagePlot is a tile showing a raster image with no axes, pixels kept sharp.
func imagePlot(img image.Image, title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = tileTitle
	p.Title.Padding = vg.Points(2)
	p.HideAxes()
	b := img.Bounds()
	// At least ~112 px across, so even a 3×3 map stays crisp blocks rather than a smear.
	f := max(4, (112+b.Dx()-1)/b.Dx())
	p.Add(plotterImage(upscale(img, f), float64(b.Dx()), float64(b.Dy())))
	p.X.Min, p.X.Max = 0, float64(b.Dx())
	p.Y.Min, p.Y.Max = 0, float64(b.Dy())
	return p
}

// upscale repeats pixels f×f so the PNG rasterizer cannot blur a 28×28 image.
func upscale(src image.Image, f int) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*f, b.Dy()*f))
	for y := 0; y < b.Dy()*f; y++ {
		for x := 0; x < b.Dx()*f; x++ {
			dst.Set(x, y, src.At(b.Min.X+x/f, b.Min.Y+y/f))
		}
	}
	return dst
}

// grayImage renders h×w values, scaled from [lo,hi] to black..white.
func grayImage(v []float32, h, w int, lo, hi float32) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	span := hi - lo
	if span <= 0 {
		span = 1
	}
	for i := range h * w {
		t := (v[i] - lo) / span
		img.Pix[i] = uint8(math.Round(float64(clamp01(t)) * 255))
	}
	return img
}

// overlay blends a heat map in [0,1] (same h×w as the gray image) over it with the jet colour map;
// alpha grows with the heat so cold regions leave the garment visible.
func overlay(gray *image.Gray, heat []float32) *image.RGBA {
	b := gray.Bounds()
	out := image.NewRGBA(b)
	for i := range b.Dx() * b.Dy() {
		g := float64(gray.Pix[i]) / 255
		h := float64(clamp01(heat[i]))
		jr, jg, jb := jet(h)
		a := 0.25 + 0.45*h
		out.Pix[4*i+0] = uint8(255 * ((1-a)*g + a*jr))
		out.Pix[4*i+1] = uint8(255 * ((1-a)*g + a*jg))
		out.Pix[4*i+2] = uint8(255 * ((1-a)*g + a*jb))
		out.Pix[4*i+3] = 255
	}
	return out
}

// jet is the classic blue→cyan→yellow→red map, the convention in Grad-CAM figures.
func jet(t float64) (r, g, b float64) {
	f := func(x float64) float64 { return math.Max(0, math.Min(1, x)) }
	return f(1.5 - math.Abs(4*t-3)), f(1.5 - math.Abs(4*t-2)), f(1.5 - math.Abs(4*t-1))
}

func clamp01(t float32) float32 {
	if t < 0 || t != t {
		return 0
	}
	if t > 1 {
		return 1
	}
	return t
}
