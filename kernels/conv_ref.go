package kernels

// convGemmBiasAct computes c[m][n] = act(a[m][k]·b[k][n] + bias[m]) for row-major a, b and c.
// Stand-in until the SGEMM family's fused-epilogue GEMM lands: row-by-row axpy, correct but slow.
func convGemmBiasAct(m, n, k int, a, b, bias, c []float32, relu bool) {
	ew := current.Load().ew
	for i := 0; i < m; i++ {
		row := c[i*n : (i+1)*n]
		for j := range row {
			row[j] = bias[i]
		}
		for p := 0; p < k; p++ {
			aip := a[i*k+p]
			src := b[p*n : (p+1)*n]
			for j, x := range src {
				row[j] += aip * x
			}
		}
		if relu {
			ew.relu(row, row)
		}
	}
}
