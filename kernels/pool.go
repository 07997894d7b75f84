package kernels

// MaxPool2x2 pools each of planes contiguous h×w planes of src into an (h/2)×(w/2) plane of dst, with
// window 2×2 and stride 2; a trailing odd row or column is dropped (floor mode, like PyTorch: 7 → 3).
// In the channel-major CNHW layout the planes are the C·N images of every channel, so planes = C·N.
// idx receives, per output, where its maximum was in the window: 2·row + column, row and column in
// {0, 1}. The first maximum wins ties, and NaN propagates.
func MaxPool2x2(dst []float32, idx []uint8, src []float32, planes, h, w int) {
	checkMatrix("MaxPool2x2", "src", len(src), planes, h*w)
	checkMatrix("MaxPool2x2", "plane", h*w, h, w)
	out := planes * (h / 2) * (w / 2)
	need("MaxPool2x2", "dst", len(dst), out)
	need("MaxPool2x2", "idx", len(idx), out)
	current.Load().ew.maxPool(dst, idx, src, planes, h, w)
}

// MaxPool2x2Backward is MaxPool2x2's adjoint: it overwrites dx (planes of h×w) with zeros, then puts
// each dy at the position idx recorded for it.
func MaxPool2x2Backward(dx, dy []float32, idx []uint8, planes, h, w int) {
	checkMatrix("MaxPool2x2Backward", "dx", len(dx), planes, h*w)
	checkMatrix("MaxPool2x2Backward", "plane", h*w, h, w)
	out := planes * (h / 2) * (w / 2)
	need("MaxPool2x2Backward", "dy", len(dy), out)
	need("MaxPool2x2Backward", "idx", len(idx), out)
	for _, k := range idx[:out] {
		if k > 3 {
			panic("kernels: MaxPool2x2Backward: idx holds a value above 3; it must come from MaxPool2x2")
		}
	}
	current.Load().ew.maxPoolBack(dx, dy, idx, planes, h, w)
}
