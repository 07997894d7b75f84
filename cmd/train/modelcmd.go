package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/simdnn/simdnn/dataset"
)

// dataDirHelp is the --data flag's help, the search order dataset.FindDir follows.
const dataDirHelp = "Fashion-MNIST directory (default: $" + dataset.EnvDir + ", else " + dataset.SystemDir + ", else ./" + dataset.LocalDir + ")"

// modelCommand is the shape of the subcommands that read one model file and the dataset
// (`train tta`, `train precise-bn`): a flag set with --data, one MODEL argument, errors on one line.
type modelCommand struct {
	name   string // "train tta"
	fs     *flag.FlagSet
	data   *string
	stderr io.Writer
}

// newModelCommand makes the flag set; usage is what follows the name on the usage line.
func newModelCommand(name, usage string, stderr io.Writer) *modelCommand {
	c := &modelCommand{name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError), stderr: stderr}
	c.fs.SetOutput(stderr)
	c.data = c.fs.String("data", "", dataDirHelp)
	c.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s %s\n", name, usage)
		c.fs.PrintDefaults()
	}
	return c
}

// parse parses args and returns the model path; ok false means return code now (0 after -h).
func (c *modelCommand) parse(args []string) (path string, code int, ok bool) {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", 0, false
		}
		return "", 1, false
	}
	if c.fs.NArg() != 1 {
		c.fs.Usage()
		return "", 1, false
	}
	return c.fs.Arg(0), 0, true
}

// dataset finds and loads Fashion-MNIST from --data (or the default places).
func (c *modelCommand) dataset() (*dataset.FashionMNIST, error) {
	dir, err := dataset.FindDir(*c.data)
	if err != nil {
		return nil, err
	}
	return dataset.Load(dir)
}

// fail prints err as the command's one-line error and returns the exit code.
func (c *modelCommand) fail(err error) int {
	fmt.Fprintf(c.stderr, "%s: %v\n", c.name, err)
	return 1
}
