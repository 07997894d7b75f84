package nn

import "fmt"

// RecomputeBNStats replaces every BatchNorm's running statistics with the plain average of its batch
// statistics over x (n normalized images [n][1][28][28]) in batches of batch images, the weights
// unchanged. This is PyTorch's torch.optim.swa_utils.update_bn, "precise BatchNorm" (Wu & Johnson,
// "Rethinking 'Batch' in BatchNorm", 2021).
//
// Why: the exponential moving average of the last ~10 batches trails weights that Adam still moves at
// a large learning rate, so evaluation normalizes with statistics of older networks. Measured on the
// residual CNN after 18 epochs of the plateau schedule ending at lr 5e-4 (`train precise-bn` on
// 04-resnet-warmup): test accuracy 91.11% with the moving averages, 92.41% with statistics recomputed
// over 50 batches of 128 training images; at a small final rate the two agree within 0.1 point.
//
// The batches run in training mode, dropout included (as in update_bn), so they draw dropout masks
// from the network's generator. A last batch of one image is skipped (BatchNorm cannot normalize it).
func RecomputeBNStats(net Network, x []float32, n, batch int) error {
	s, ok := net.(*seqNet)
	if !ok {
		return fmt.Errorf("network type %T is not one of this package's", net)
	}
	switch {
	case batch < 2:
		return fmt.Errorf("recomputing BatchNorm statistics: batch of %d images, need at least 2", batch)
	case n < 2:
		return fmt.Errorf("recomputing BatchNorm statistics: %d images, need at least 2", n)
	case len(x) < n*s.inSize:
		return fmt.Errorf("recomputing BatchNorm statistics: %d values for %d images of %d", len(x), n, s.inSize)
	}
	bns := s.batchNorms()
	for _, b := range bns {
		b.average, b.seen = true, 0
	}
	defer func() {
		for _, b := range bns {
			b.average, b.seen = false, 0
		}
	}()
	for lo := 0; lo < n; lo += batch {
		nb := min(batch, n-lo)
		if nb == 1 {
			break
		}
		s.Forward(x[lo*s.inSize:(lo+nb)*s.inSize], nb, true)
	}
	return nil
}

// batchNorms lists the network's BatchNorm layers, those inside residual blocks included.
func (s *seqNet) batchNorms() []*batchNorm {
	var bns []*batchNorm
	for _, l := range s.layers {
		switch l := l.(type) {
		case *batchNorm:
			bns = append(bns, l)
		case *resBlock:
			bns = append(bns, l.bn1, l.bn2)
			if l.downBN != nil {
				bns = append(bns, l.downBN)
			}
		}
	}
	return bns
}
