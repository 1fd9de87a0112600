// inventory — a "legacy" Go service (standard library only) that knows nothing of tracing.
//
// GET /item/<n>: asks stock for the item's SKU (GET /stock/<sku>, a number of its own, not n) and
// pricing (GET /quote/<n>) at the same time, waits for both, then — when n % 3 == 0 — reserves
// the item (GET /reserve/<n>) at stock: two or three
// calls per request, in parallel and then in sequence, through its sidecar's outbound listeners
// (STOCK_URL, PRICING_URL). GET /availability/<n> answers from memory and calls nobody. It
// forwards no trace headers.
//
// Every call carries an x-request-id of its own making; GROUND_TRUTH (optional) receives one JSON
// line per request served: the x-request-id it received and those it sent (tests only).
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var (
	stockURL   = os.Getenv("STOCK_URL")
	pricingURL = os.Getenv("PRICING_URL")
	client     = &http.Client{Timeout: 10 * time.Second}
	itemPath   = regexp.MustCompile(`^/(item|availability)/([0-9]{1,9})$`)
	truthMu    sync.Mutex
	truth      *os.File
)

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// get calls url with a fresh x-request-id, which it records in sent (under mu).
func get(url string, mu *sync.Mutex, sent *[]string) (map[string]any, error) {
	id := newID()
	mu.Lock()
	*sent = append(*sent, id)
	mu.Unlock()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("x-request-id", id)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, res.Status)
	}
	var out map[string]any
	err = json.NewDecoder(res.Body).Decode(&out)
	return out, err
}

func record(in, op string, sent []string) {
	if truth == nil {
		return
	}
	line, _ := json.Marshal(map[string]any{"service": "inventory", "in": in, "op": op, "out": sent})
	truthMu.Lock()
	defer truthMu.Unlock()
	_, _ = truth.Write(append(line, '\n'))
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		reply(w, 200, map[string]bool{"ok": true})
		return
	}
	m := itemPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		reply(w, 404, map[string]string{"error": "not found"})
		return
	}
	n, _ := strconv.Atoi(m[2])
	in := r.Header.Get("x-request-id")
	if m[1] == "availability" {
		record(in, "GET /availability", []string{})
		reply(w, 200, map[string]any{"service": "inventory", "n": n, "available": n%5 != 0})
		return
	}
	var (
		mu    sync.Mutex
		sent  = []string{}
		wg    sync.WaitGroup
		stock map[string]any
		quote map[string]any
		errs  [2]error
	)
	wg.Add(2)
	sku := (n*7919 + 13) % 100000 // the warehouse's own numbering
	go func() { defer wg.Done(); stock, errs[0] = get(fmt.Sprintf("%s/stock/%d", stockURL, sku), &mu, &sent) }()
	go func() { defer wg.Done(); quote, errs[1] = get(fmt.Sprintf("%s/quote/%d", pricingURL, n), &mu, &sent) }()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			record(in, "GET /item", sent)
			reply(w, 502, map[string]string{"error": err.Error()})
			return
		}
	}
	body := map[string]any{"service": "inventory", "lang": "go", "stock": stock, "quote": quote}
	if n%3 == 0 {
		res, err := get(fmt.Sprintf("%s/reserve/%d", stockURL, n), &mu, &sent)
		if err != nil {
			record(in, "GET /item", sent)
			reply(w, 502, map[string]string{"error": err.Error()})
			return
		}
		body["reserved"] = res
	}
	record(in, "GET /item", sent)
	reply(w, 200, body)
}

func main() {
	if path := os.Getenv("GROUND_TRUTH"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "inventory:", err)
			os.Exit(1)
		}
		truth = f
	}
	addr := "127.0.0.1:" + os.Getenv("PORT")
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(handle)}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		_ = srv.Close()
	}()
	fmt.Println("inventory listening on", addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "inventory:", err)
		os.Exit(1)
	}
}
