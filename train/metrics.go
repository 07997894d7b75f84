package train

import "sort"

// Confusion counts predictions: Confusion[t][p] is how many images of true class t were predicted
// as class p.
func Confusion(labels, preds []uint8, classes int) [][]int {
	c := make([][]int, classes)
	for i := range c {
		c[i] = make([]int, classes)
	}
	for i, t := range labels {
		c[t][preds[i]]++
	}
	return c
}

// ClassScore is one class's precision, recall and F1 on the test set; Support is its image count.
type ClassScore struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// PerClass derives precision (of the predicted column), recall (of the true row) and their harmonic
// mean from a confusion matrix. A score whose denominator is zero is 0, as in scikit-learn's
// zero_division=0.
func PerClass(conf [][]int, names []string) []ClassScore {
	k := len(conf)
	out := make([]ClassScore, k)
	for c := 0; c < k; c++ {
		var row, col int
		for j := 0; j < k; j++ {
			row += conf[c][j]
			col += conf[j][c]
		}
		tp := float64(conf[c][c])
		s := ClassScore{Support: row}
		if c < len(names) {
			s.Class = names[c]
		}
		if col > 0 {
			s.Precision = tp / float64(col)
		}
		if row > 0 {
			s.Recall = tp / float64(row)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		out[c] = s
	}
	return out
}

// Pair is an unordered pair of classes and how often the model mixed them up in either direction.
type Pair struct {
	A      string `json:"a"`
	B      string `json:"b"`
	AIndex int    `json:"a_index"`
	BIndex int    `json:"b_index"`
	AasB   int    `json:"a_as_b"` // images of A predicted as B
	BasA   int    `json:"b_as_a"`
	Count  int    `json:"count"` // AasB + BasA
}

// ConfusedPairs returns the top pairs by symmetric count (ties broken by class indices), leaving out
// pairs never confused.
func ConfusedPairs(conf [][]int, names []string, top int) []Pair {
	var pairs []Pair
	for a := range conf {
		for b := a + 1; b < len(conf); b++ {
			p := Pair{AIndex: a, BIndex: b, AasB: conf[a][b], BasA: conf[b][a]}
			p.Count = p.AasB + p.BasA
			if p.Count == 0 {
				continue
			}
			if a < len(names) && b < len(names) {
				p.A, p.B = names[a], names[b]
			}
			pairs = append(pairs, p)
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].Count > pairs[j].Count })
	if len(pairs) > top {
		pairs = pairs[:top]
	}
	return pairs
}
