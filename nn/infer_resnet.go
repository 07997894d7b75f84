package nn

import (
	"fmt"
	"strings"
)

// The residual CNN's evaluation graph: the stem is an ordinary fused conv+BN+ReLU and max-pool, each
// residual block one graph step (infBlock) and the head a global average pool and a fused linear.
//
// A block runs conv1 (BN folded, ReLU fused) into scratch, conv2 (BN folded, no ReLU) into its
// output, the shortcut (identity, or the 1×1 projection with its BN folded: one fused GEMM) into
// scratch, and one pass of out = ReLU(out + shortcut).

// infResBlock holds a block's folded weights.
type infResBlock struct {
	conv1, conv2 *infConvOp
	wd, bd       []float32 // projection shortcut; nil: identity
}

// compileResNet appends the residual CNN's layers to g.
func compileResNet(g *Inference, t infTensors) error {
	sp := resNetSpecs[g.arch]
	convBN := func(conv, bn string, cout, cin, k int) ([]float32, []float32, error) {
		wt, err := t.get(conv+".weight", cout, cin, k, k)
		if err != nil {
			return nil, nil, err
		}
		b, err := t.get(conv+".bias", cout)
		if err != nil {
			return nil, nil, err
		}
		return foldBN(t, bn, wt, b, cout, cin*k*k)
	}
	h, w := ImageH, ImageW
	fw, fb, err := convBN("stem.conv", "stem.bn", sp.stem, 1, 3)
	if err != nil {
		return err
	}
	g.layers = append(g.layers, infLayer{kind: infConv, name: "stem.conv+stem.bn+relu", cin: 1, h: h, w: w, cout: sp.stem, oh: h, ow: w,
		conv: newInfConvOp(fw, fb, 1, sp.stem, h, w, true)})
	pools := 0
	for _, st := range sp.stages {
		if st.pool {
			pools++
			g.layers = append(g.layers, infLayer{kind: infPoolK, name: fmt.Sprintf("pool%d", pools), cin: st.cin, h: h, w: w, cout: st.cin, oh: h / 2, ow: w / 2})
			h, w = h/2, w/2
		}
		blk := &infResBlock{}
		w1, b1, err := convBN(st.name+".conv1", st.name+".bn1", st.cout, st.cin, 3)
		if err != nil {
			return err
		}
		w2, b2, err := convBN(st.name+".conv2", st.name+".bn2", st.cout, st.cout, 3)
		if err != nil {
			return err
		}
		blk.conv1 = newInfConvOp(w1, b1, st.cin, st.cout, h, w, true)
		blk.conv2 = newInfConvOp(w2, b2, st.cout, st.cout, h, w, false)
		if st.cin != st.cout {
			if blk.wd, blk.bd, err = convBN(st.name+".downsample.0", st.name+".downsample.1", st.cout, st.cin, 1); err != nil {
				return err
			}
		}
		g.layers = append(g.layers, infLayer{kind: infBlock, name: st.name, cin: st.cin, h: h, w: w, cout: st.cout, oh: h, ow: w, block: blk, relu: true})
	}
	c := sp.out()
	g.layers = append(g.layers, infLayer{kind: infAvgPool, name: "avgpool", cin: c, h: h, w: w, cout: c, oh: 1, ow: 1})
	wt, err := t.get("fc.weight", NumClasses, c)
	if err != nil {
		return err
	}
	b, err := t.get("fc.bias", NumClasses)
	if err != nil {
		return err
	}
	fw, fb, _ = foldBN(t, "", wt, b, NumClasses, c)
	g.layers = append(g.layers, infLayer{kind: infLinear, name: "fc", cin: c, h: 1, w: 1, cout: NumClasses, oh: 1, ow: 1, weight: fw, bias: fb})
	return nil
}

// resNetUses reports whether name is one of the tensors of the residual CNN arch.
func resNetUses(arch, name string) bool {
	prefixes := []string{"stem.conv.", "stem.bn.", "fc."}
	for _, st := range resNetSpecs[arch].stages {
		for _, m := range []string{"conv1", "bn1", "conv2", "bn2"} {
			prefixes = append(prefixes, st.name+"."+m+".")
		}
		if st.cin != st.cout {
			prefixes = append(prefixes, st.name+".downsample.0.", st.name+".downsample.1.")
		}
	}
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(name, p); ok {
			switch rest {
			case "weight", "bias":
				return true
			case "running_mean", "running_var", "num_batches_tracked":
				return strings.Contains(p, "bn") || strings.HasSuffix(p, "downsample.1.")
			}
		}
	}
	return false
}

// blockScratch is the scratch a block needs for n images: conv1's output, the shortcut, and the
// larger of its convolutions' im2col chunks after them.
func (l *infLayer) blockScratch(n int) int {
	m := l.cout * n * l.h * l.w
	return 2*m + max(l.block.conv1.scratchSize(n), l.block.conv2.scratchSize(n))
}

func (l *infLayer) blockFLOPs() int64 {
	hw := int64(l.h * l.w)
	f := 2 * int64(l.cout) * 9 * (int64(l.cin) + int64(l.cout)) * hw
	if l.block.wd != nil {
		f += 2 * int64(l.cout) * int64(l.cin) * hw
	}
	return f
}

// runBlock computes dst = ReLU(conv2(ReLU(conv1(src))) + shortcut(src)) for n images, channel-major.
func (l *infLayer) runBlock(dst, src []float32, n int, scratch []float32) {
	b := l.block
	m := n * l.h * l.w
	t1, short, conv := scratch[:l.cout*m], scratch[l.cout*m:2*l.cout*m], scratch[2*l.cout*m:]
	b.conv1.run(t1, src, n, 0, l.cout, conv)
	b.conv2.run(dst, t1, n, 0, l.cout, conv)
	if b.wd != nil {
		infGemmBias(l.cout, m, l.cin, b.wd, src, b.bd, false, short)
	} else {
		short = src[:l.cout*m]
	}
	for i, v := range short {
		dst[i] = max(dst[i]+v, 0)
	}
}

// runBlockPart is one step of runBlock for one image and output channels [lo, hi), for the two-core
// plan (infer_one.go): phase 0 computes those channels of conv1's output into shared (the caller's
// scratch, where phase 1 of either part reads all of them), phase 1 those channels of conv2, the
// shortcut and the add. The im2col or Winograd scratch and the projection's output are own's. Each
// channel is computed by the same kernels as in runBlock, so the result is the same bit for bit.
func (l *infLayer) runBlockPart(dst, src []float32, phase, lo, hi int, shared, own []float32) {
	b := l.block
	m := l.h * l.w
	t1 := shared[:l.cout*m]
	conv := own[2*l.cout*m:]
	if phase == 0 {
		b.conv1.run(t1[lo*m:hi*m], src, 1, lo, hi, conv)
		return
	}
	out := dst[lo*m : hi*m]
	b.conv2.run(out, t1, 1, lo, hi, conv)
	short := src[lo*m : hi*m]
	if b.wd != nil {
		short = own[(l.cout+lo)*m : (l.cout+hi)*m]
		infGemmBias(hi-lo, m, l.cin, b.wd[lo*l.cin:hi*l.cin], src, b.bd[lo:hi], false, short)
	}
	for i, v := range short {
		out[i] = max(out[i]+v, 0)
	}
}

// infGlobalAvgPool averages each image's hw positions: [c][n·hw] → [c][n], the feature-major input of
// the linear layer.
func infGlobalAvgPool(dst, src []float32, c, n, hw int) {
	inv := 1 / float32(hw)
	for r := 0; r < c*n; r++ {
		var s float32
		for _, v := range src[r*hw : (r+1)*hw] {
			s += v
		}
		dst[r] = s * inv
	}
}
