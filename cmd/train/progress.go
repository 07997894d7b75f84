package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/simdnn/simdnn/train"
)

// progress draws a bar per epoch on stderr when it is a terminal, and otherwise a few plain lines per
// epoch (logs and CI keep no carriage-return animation); each epoch ends with one summary line on
// stdout.
type progress struct {
	stdout, stderr io.Writer
	tty            bool

	bar        *progressbar.ProgressBar
	label      string
	images     int
	start      time.Time
	last       int // images reported so far
	nextPlain  int // plain mode: next image count to report at
	loss, acc  float64
	lastUpdate time.Time
}

func newProgress(stdout, stderr io.Writer) *progress {
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{stdout: stdout, stderr: stderr, tty: tty}
}

func (p *progress) EpochStart(arch string, epoch, epochs, images int) {
	p.label = fmt.Sprintf("%s epoch %2d/%d", strings.ToUpper(arch), epoch, epochs)
	p.images, p.last, p.start = images, 0, time.Now()
	p.nextPlain = images / 4
	if p.tty {
		p.bar = progressbar.NewOptions(images,
			progressbar.OptionSetWriter(p.stderr),
			progressbar.OptionSetDescription(p.label),
			progressbar.OptionSetItsString("img"),
			progressbar.OptionShowIts(),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
}

func (p *progress) Batch(done int, loss, acc float64) {
	p.loss, p.acc = loss, acc
	if p.tty {
		if time.Since(p.lastUpdate) > 200*time.Millisecond {
			p.bar.Describe(fmt.Sprintf("%s  loss %.4f  acc %.2f%%", p.label, loss, 100*acc))
			p.lastUpdate = time.Now()
		}
		p.bar.Add(done - p.last)
		p.last = done
		return
	}
	p.last = done
	if done >= p.nextPlain && done < p.images {
		rate := float64(done) / time.Since(p.start).Seconds()
		fmt.Fprintf(p.stderr, "%s: %d/%d images, %.0f img/s, loss %.4f, acc %.2f%%\n", p.label, done, p.images, rate, loss, 100*acc)
		p.nextPlain += p.images / 4
	}
}

func (p *progress) EpochEnd(arch string, e train.Epoch) {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
	fmt.Fprintf(p.stdout, "%s  train loss %.4f acc %.2f%%  val loss %.4f acc %.2f%%  lr %.2g  %.1f s (%.0f img/s)\n",
		p.label, e.TrainLoss, 100*e.TrainAcc, e.ValLoss, 100*e.ValAcc, e.LR, e.Seconds, e.ImagesPS)
}

func (p *progress) Phase(arch, what string) {
	fmt.Fprintf(p.stderr, "%s: %s\n", strings.ToUpper(arch), what)
}
