package report

// rowNormalize turns counts into per-true-class fractions (each row sums to 1; empty rows stay 0),
// so a class's recall sits on the diagonal.
func rowNormalize(conf [][]int) [][]float64 {
	out := make([][]float64, len(conf))
	for i, row := range conf {
		out[i] = make([]float64, len(row))
		var s int
		for _, v := range row {
			s += v
		}
		if s == 0 {
			continue
		}
		for j, v := range row {
			out[i][j] = float64(v) / float64(s)
		}
	}
	return out
}

// pairRank is the 1-based rank of the unordered pair {a,b} in ps, or 0 when absent.
func pairRank(ps []pairRow, a, b int) int {
	for i, p := range ps {
		if (p.A == a && p.B == b) || (p.A == b && p.B == a) {
			return i + 1
		}
	}
	return 0
}
