package nn

import (
	"math"
	"testing"
)

// trainSteps runs k Adam steps of net on a fixed batch and returns the last logits.
func trainSteps(net Network, opt *Adam, k int) []float32 {
	x := randImages(8, 31)
	labels := []uint8{0, 1, 2, 3, 4, 5, 6, 7}
	d := make([]float32, 8*NumClasses)
	var logits []float32
	for i := 0; i < k; i++ {
		logits = net.Forward(x, 8, true)
		SoftmaxCrossEntropy(logits, labels, 8, d)
		opt.ZeroGrad()
		net.Backward(d)
		opt.Step()
	}
	return append([]float32(nil), logits...)
}

func sameValues(t *testing.T, what string, a, b []*Param) {
	t.Helper()
	for i := range a {
		for j := range a[i].Value {
			if math.Float32bits(a[i].Value[j]) != math.Float32bits(b[i].Value[j]) {
				t.Fatalf("%s: %s[%d] %v vs %v", what, a[i].Name, j, a[i].Value[j], b[i].Value[j])
			}
		}
	}
}

// TestDropoutSource: DropoutSource(seed) reproduces the masks the network draws by itself, and a
// source restored from MarshalBinary continues the same stream.
func TestDropoutSource(t *testing.T) {
	a, _ := New("ann", 7)
	b, _ := New("ann", 7)
	src := DropoutSource(7)
	if err := SetDropoutSource(b, src); err != nil {
		t.Fatal(err)
	}
	trainSteps(a, NewAdam(a.Params(), 1e-3), 2)
	trainSteps(b, NewAdam(b.Params(), 1e-3), 2)
	sameValues(t, "own generator vs DropoutSource", a.Params(), b.Params())

	// Save the stream's state, draw, restore: the same masks again.
	state, err := src.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	x := randImages(4, 5)
	first := append([]float32(nil), b.Forward(x, 4, true)...)
	if err := src.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	again := b.Forward(x, 4, true)
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("logit %d: %v after restoring the generator, %v before", i, again[i], first[i])
		}
	}
	if err := SetDropoutSource(struct{ Network }{b}, src); err == nil {
		t.Error("a foreign network type was accepted")
	}
}

// TestAdamState: an optimizer restored from State continues exactly as the original does.
func TestAdamState(t *testing.T) {
	a, _ := New("cnn", 2)
	optA := NewAdam(a.Params(), 1e-3)
	trainSteps(a, optA, 2)

	b, _ := New("cnn", 2)
	for i, p := range append(b.Params(), b.Buffers()...) {
		copy(p.Value, append(a.Params(), a.Buffers()...)[i].Value)
	}
	optB := NewAdam(b.Params(), 0.5)
	if err := optB.SetState(optA.State()); err != nil {
		t.Fatal(err)
	}
	if optB.Steps() != 2 || optB.LR() != 1e-3 {
		t.Fatalf("restored step %d lr %v", optB.Steps(), optB.LR())
	}
	// Dropout: both networks must draw the same masks from here on.
	sa, sb := DropoutSource(99), DropoutSource(99)
	SetDropoutSource(a, sa)
	SetDropoutSource(b, sb)
	trainSteps(a, optA, 2)
	trainSteps(b, optB, 2)
	sameValues(t, "continued vs restored optimizer", a.Params(), b.Params())

	ann, _ := New("ann", 1)
	if err := NewAdam(ann.Params(), 1e-3).SetState(optA.State()); err == nil {
		t.Error("a CNN's optimizer state was accepted for an ANN")
	}
}
