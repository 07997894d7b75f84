package report

// run is the report's view of one model's training run: everything the figures and tables need,
// filled from the trainer's metrics JSON by fromMetrics so that the drawing code does not depend on
// the JSON's field names.
type run struct {
	Arch     string
	Classes  []string
	Epochs   []epochRow
	Changes  string // what the run's recipe changes from the study's (train.Recipe.Changes), or "none"
	Schedule string // "plateau", "cosine" or "onecycle" (train.Recipe.Schedule)

	TrainAcc, ValAcc, TestAcc    float64 // fractions in [0,1]
	TrainLoss, ValLoss, TestLoss float64

	Confusion [][]int // [true][predicted]
	Precision []float64
	Recall    []float64
	F1        []float64
	Pairs     []pairRow // most confused pairs, as the trainer ranked them

	Params          int
	WallSeconds     float64
	SecondsPerEpoch float64
	Threads         int
	Kernels         string

	Mean, Std       float32 // the normalization the model was trained with
	TestPredictions []uint8 // predicted class per test image, in file order (may be absent)
}

type epochRow struct {
	Epoch                                int
	TrainLoss, TrainAcc, ValLoss, ValAcc float64
	LR, Seconds                          float64
}

// pairRow is an unordered class pair and how often either was mistaken for the other.
type pairRow struct {
	A, B  int
	Count int
}

// benchRow is the part of bench.json the efficiency table shows.
type benchRow struct {
	Arch           string
	Found          bool
	FLOPs          float64 // per image
	Throughput     float64 // images/s at (Batch, Threads)
	GFLOPS         float64
	PctPeak        float64
	Batch, Threads int
	LatencyP50us   float64 // one image
	Kernels, CPU   string
	Source         string // model file or "random weights"
}
