package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/simdnn/simdnn/internal/atomicfile"
)

// MirrorURL is the dataset's official mirror, the one torchvision and Keras download from.
const MirrorURL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

// sha256Sums lists the accepted SHA-256 of each .gz file. The first is Zalando's original as served
// by MirrorURL (published by torchvision-style loaders and TFDS). The second is Debian's
// dataset-fashion-mnist copy, which we hash here: it carries the same deflate stream (each file is
// exactly len(name)+1 bytes shorter, the gzip FNAME field dropped) under a plain header, so a mirror
// of either is the genuine data.
var sha256Sums = map[string][]string{
	TrainImagesFile + ".gz": {
		"3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
		"b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
	},
	TrainLabelsFile + ".gz": {
		"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
		"0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
	},
	TestImagesFile + ".gz": {
		"346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
		"cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
	},
	TestLabelsFile + ".gz": {
		"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
		"8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
	},
}

// maxDownload bounds one file's size: the largest is 26.4 MB, so a server streaming more is wrong.
const maxDownload = 64 << 20

// Download fetches the four .gz files from baseURL (MirrorURL for the real thing) into dir, checks
// each one's SHA-256 and moves it into place atomically. Files already present with a good checksum
// are kept. ctx bounds the whole download.
func Download(ctx context.Context, dir, baseURL string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if !strings.HasSuffix(baseURL, "/") {
		baseURL += "/"
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		return fmt.Errorf("download: bad base URL %q: %v", baseURL, err)
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	for _, name := range fileNames {
		gz := name + ".gz"
		dst := filepath.Join(dir, gz)
		if sum, err := fileSHA256(dst); err == nil && goodSum(gz, sum) {
			continue
		}
		if err := fetch(ctx, client, base.ResolveReference(&url.URL{Path: gz}).String(), dst, gz); err != nil {
			return err
		}
	}
	return nil
}

func fetch(ctx context.Context, client *http.Client, src, dst, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return fmt.Errorf("download %s: %v", src, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %v", src, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: server answered %s", src, resp.Status)
	}
	// The checks run inside the write, so a failed one leaves no file behind.
	return atomicfile.Write(dst, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, maxDownload+1))
		if err != nil {
			return fmt.Errorf("download %s: %v", src, err)
		}
		if n > maxDownload {
			return fmt.Errorf("download %s: more than %d bytes, not a Fashion-MNIST file", src, maxDownload)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); !goodSum(name, sum) {
			return fmt.Errorf("download %s: SHA-256 %s does not match the published checksum %s", src, sum, sha256Sums[name][0])
		}
		return nil
	})
}

func goodSum(name, sum string) bool {
	for _, s := range sha256Sums[name] {
		if s == sum {
			return true
		}
	}
	return false
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
