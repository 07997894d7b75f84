package nn

import "github.com/simdnn/simdnn/kernels"

// The inference graph's compute steps, on the kernels package.

// infConvScratch is the scratch a 3×3 convolution over n images needs (its im2col chunk).
func infConvScratch(n, cin, h, w int) int { return kernels.Conv3x3ScratchSize(n, cin, h, w) }

// infConv3x3 computes dst[cout][n·h·w] = act(W[cout][cin·9] · im2col(src) + bias), stride 1, padding 1,
// src and dst channel-major (CNHW).
func infConv3x3(dst, src, weight, bias []float32, n, cin, cout, h, w int, relu bool, scratch []float32) {
	kernels.Conv3x3BiasReLU(dst, src, weight, bias, n, cin, cout, h, w, relu, scratch)
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
