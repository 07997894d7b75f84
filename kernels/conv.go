package kernels

// Conv3x3ScratchSize is the length of the scratch slice Conv3x3BiasReLU needs for n images of
// cin×h×w; allocate it once and reuse it across calls.
func Conv3x3ScratchSize(n, cin, h, w int) int { return cin * 9 * n * h * w }

// Conv3x3BiasReLU is an inference 3×3 convolution, stride 1, padding 1, with a fused epilogue:
//
//	dst[co][img][y][x] = act(bias[co] + Σ_{ci,kh,kw} weight[co][ci][kh][kw] · src[ci][img][y+kh−1][x+kw−1])
//
// with act = max(·, 0) when relu is set, identity otherwise, and src read as 0 outside the image. src
// is [cin][n][h][w] and dst [cout][n][h][w] (channel-major CNHW), weight is PyTorch's [cout][cin][3][3]
// (fold batchnorm into weight and bias first). scratch holds at least Conv3x3ScratchSize(n, cin, h, w)
// floats. It computes im2col + one GEMM with a bias/ReLU epilogue.
func Conv3x3BiasReLU(dst, src, weight, bias []float32, n, cin, cout, h, w int, relu bool, scratch []float32) {
	checkConvShape("Conv3x3BiasReLU", n, cin, h, w)
	if cout < 0 {
		panic("kernels: Conv3x3BiasReLU: negative cout")
	}
	m := n * h * w
	need("Conv3x3BiasReLU", "src", len(src), cin*m)
	need("Conv3x3BiasReLU", "dst", len(dst), cout*m)
	need("Conv3x3BiasReLU", "weight", len(weight), cout*cin*9)
	need("Conv3x3BiasReLU", "bias", len(bias), cout)
	need("Conv3x3BiasReLU", "scratch", len(scratch), Conv3x3ScratchSize(n, cin, h, w))
	col := scratch[:cin*9*m]
	Im2col3x3(col, src, n, cin, h, w)
	SgemmBiasReLU(cout, m, cin*9, weight, cin*9, col, m, bias, relu, dst, m)
}
