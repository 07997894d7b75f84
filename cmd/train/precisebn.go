package main

import (
	"fmt"
	"io"
	"maps"
	"strconv"

	"github.com/simdnn/simdnn/dataset"
	"github.com/simdnn/simdnn/nn"
	"github.com/simdnn/simdnn/train"
)

// runPreciseBN is `train precise-bn [--data DIR] [--batches N] [--write FILE] MODEL`: a model file's
// test accuracy with the BatchNorm running statistics it holds and with statistics recomputed over N
// batches of its training images (the weights unchanged; PyTorch's update_bn), optionally writing the
// recomputed model. The training images are the 90% split of the seed the model's metadata records.
func runPreciseBN(args []string, stdout, stderr io.Writer) int {
	c := newModelCommand("train precise-bn", "[--data DIR] [--batches N] [--write FILE] MODEL.safetensors   (test accuracy with recomputed BatchNorm statistics)", stderr)
	batches := c.fs.Int("batches", 50, "batches of 128 training images to average the statistics over")
	write := c.fs.String("write", "", "write the model with the recomputed statistics to this file (not over MODEL: its metrics would no longer match)")
	path, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if *batches < 1 {
		return c.fail(fmt.Errorf("--batches %d: want at least 1", *batches))
	}
	if *write == path {
		return c.fail(fmt.Errorf("--write %s is the model itself; its metrics would no longer match it", path))
	}
	if err := preciseBN(c, path, *batches, *write, stdout); err != nil {
		return c.fail(err)
	}
	return 0
}

func preciseBN(c *modelCommand, path string, batches int, write string, stdout io.Writer) error {
	net, meta, err := nn.Load(path)
	if err != nil {
		return err
	}
	seed := int64(1)
	if s, ok := meta.Extra["seed"]; ok {
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			return fmt.Errorf("%s: metadata seed %q: %v", path, s, err)
		}
	}
	ds, err := c.dataset()
	if err != nil {
		return err
	}
	d := train.PrepareData(ds, seed, 0)
	mean, std := meta.Mean, meta.Std
	if !(std > 0) {
		mean, std = d.Mean, d.Std // a plain export: the split's own normalization
	}
	norm := dataset.NewNormalizer(mean, std)
	before, _ := train.Evaluate(net, d.Test, norm)
	const batch = 128
	if err := train.PreciseBN(net, d.Train, norm, batches, batch, seed, 0); err != nil {
		return err
	}
	after, _ := train.Evaluate(net, d.Test, norm)
	fmt.Fprintf(stdout, "%s: test accuracy %.2f%% (%d/%d) with its BatchNorm statistics, %.2f%% (%d/%d) with statistics recomputed over %d training images (seed %d's split)\n",
		path, 100*before.Acc, before.Correct, before.Images, 100*after.Acc, after.Correct, after.Images,
		min(batches*batch, d.Train.Len()), seed)
	if write == "" {
		return nil
	}
	meta.Extra = maps.Clone(meta.Extra)
	if meta.Extra == nil {
		meta.Extra = map[string]string{}
	}
	meta.Extra["test_acc"] = strconv.FormatFloat(after.Acc, 'f', 6, 64)
	meta.Extra["precise_bn_batches"] = strconv.Itoa(batches)
	if err := nn.Save(write, net, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", write)
	return nil
}
