package nn

import "github.com/simdnn/simdnn/kernels"

// The inference graph's compute steps, on the kernels package.

// infWinograd returns the Winograd transform of a convolution's folded weights, or nil for one input
// channel, where the direct kernel of the first layer is faster than either GEMM.
func infWinograd(weight []float32, cin, cout int) *kernels.WinogradF2x3 {
	if cin < 2 {
		return nil
	}
	return kernels.NewWinogradF2x3(weight, cin, cout)
}

// infConvScratch is the scratch a 3×3 convolution over n images needs: its im2col chunk, or Winograd's
// transformed tiles, whichever path runs.
func infConvScratch(wino *kernels.WinogradF2x3, n, cin, h, w int) int {
	s := kernels.Conv3x3ScratchSize(n, cin, h, w)
	if wino != nil {
		s = max(s, wino.ScratchSize(n, h, w))
	}
	return s
}

// infConv3x3 computes output channels [lo, hi) of dst[cout][n·h·w] = act(W[cout][cin·9] · im2col(src)
// + bias), stride 1, padding 1, src and dst channel-major (CNHW; dst holds the range's channels only).
// It runs Winograd F(2×2, 3×3) where the kernel set makes it pay (wino non-nil), else im2col + GEMM.
func infConv3x3(dst, src, weight, bias []float32, wino *kernels.WinogradF2x3, n, cin, lo, hi, h, w int, relu bool, scratch []float32) {
	if wino != nil && wino.Pays(n, h, w) {
		wino.Forward(dst, src, bias[lo:hi], n, h, w, lo, hi, relu, scratch)
		return
	}
	k := cin * 9
	kernels.Conv3x3BiasReLU(dst, src, weight[lo*k:hi*k], bias[lo:hi], n, cin, hi-lo, h, w, relu, scratch)
}

// infGemmBias computes C[m][n] = act(A[m][k]·B[k][n] + bias[i]), all row-major and dense. A single
// column (a batch of one) goes through the matrix-vector kernel, which reads the weights once
// instead of packing them.
func infGemmBias(m, n, k int, a, b, bias []float32, relu bool, c []float32) {
	if n == 1 {
		kernels.SgemvBiasReLU(m, k, a, k, b, bias, relu, c)
		return
	}
	kernels.SgemmBiasReLU(m, n, k, a, k, b, n, bias, relu, c, n)
}

// infMaxPool2x2 pools each of planes h×w planes to (h/2)×(w/2) (floor, like PyTorch). idx is scratch
// for the argmax the kernel records (training's backward needs it; inference ignores it).
func infMaxPool2x2(dst []float32, idx []uint8, src []float32, planes, h, w int) {
	kernels.MaxPool2x2(dst, idx, src, planes, h, w)
}

// infConvAlgorithm names the path infConv3x3 takes for n images.
func infConvAlgorithm(wino *kernels.WinogradF2x3, n, cin, cout, h, w int) string {
	if wino != nil && wino.Pays(n, h, w) {
		return "winograd-f2x3"
	}
	return kernels.Conv3x3Algorithm(cin, cout)
}
