package nn

import "math"

// SoftmaxCrossEntropy returns the mean cross-entropy of n image-major logits [n][10] against labels,
// and how many argmaxes equal their label. If dlogits is not nil it receives the gradient of the
// mean loss: (softmax − onehot)/n.
func SoftmaxCrossEntropy(logits []float32, labels []uint8, n int, dlogits []float32) (loss float64, correct int) {
	return SmoothedCrossEntropy(logits, labels, n, 0, dlogits)
}

// SmoothedCrossEntropy is SoftmaxCrossEntropy against targets smoothed by eps, as PyTorch's
// CrossEntropyLoss(label_smoothing=eps): the target of class k is (1−eps)·[k = label] + eps/10, so the
// loss is (1−eps)·(−log p_label) + eps·mean_k(−log p_k) and its gradient (softmax − target)/n. With
// eps = 0 it is SoftmaxCrossEntropy, bit for bit.
func SmoothedCrossEntropy(logits []float32, labels []uint8, n int, eps float64, dlogits []float32) (loss float64, correct int) {
	for i := 0; i < n; i++ {
		z := logits[i*NumClasses : (i+1)*NumClasses]
		y := int(labels[i])
		best := 0
		mx := z[0]
		for k, v := range z {
			if v > mx {
				mx, best = v, k
			}
		}
		if best == y {
			correct++
		}
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v - mx))
		}
		logSum := math.Log(sum)
		ce := logSum - float64(z[y]-mx)
		if eps != 0 {
			// −mean_k log p_k = logSum − mean_k (z_k − mx)
			var zs float64
			for _, v := range z {
				zs += float64(v - mx)
			}
			ce = (1-eps)*ce + eps*(logSum-zs/NumClasses)
		}
		loss += ce
		if dlogits != nil {
			d := dlogits[i*NumClasses : (i+1)*NumClasses]
			for k, v := range z {
				p := math.Exp(float64(v-mx) - logSum)
				if eps != 0 {
					p -= eps / NumClasses
					if k == y {
						p -= 1 - eps
					}
				} else if k == y {
					p--
				}
				d[k] = float32(p / float64(n))
			}
		}
	}
	if n > 0 {
		loss /= float64(n)
	}
	return loss, correct
}
