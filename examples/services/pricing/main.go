// pricing — a "legacy" Go service with no tracing. It keeps prices and view counts in Redis,
// reached through its sidecar's TCP listener (REDIS_ADDR), speaking RESP by hand so the
// sample needs nothing beyond the standard library.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var item = regexp.MustCompile(`^/price/([A-Za-z0-9-]{1,32})$`)

// redisDo sends one command and reads one reply (integer, bulk string or nil).
func redisDo(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch line[0] {
	case ':', '+':
		return line[1:], nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	default:
		return "", fmt.Errorf("redis: %s", line)
	}
}

func main() {
	port := os.Getenv("PORT")
	redis := os.Getenv("REDIS_ADDR")
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	http.HandleFunc("/price/", func(w http.ResponseWriter, r *http.Request) {
		m := item.FindStringSubmatch(r.URL.Path)
		if m == nil {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		views, err := redisDo(redis, "INCR", "views:"+m[1])
		if err == nil {
			_, err = redisDo(redis, "SET", "price:"+m[1], strconv.Itoa(100+len(m[1])*7), "NX")
		}
		price := ""
		if err == nil {
			price, err = redisDo(redis, "GET", "price:"+m[1])
		}
		w.Header().Set("content-type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"service": "pricing", "lang": "go", "cents": price, "views": views})
	})
	log.Printf("pricing listening on 127.0.0.1:%s (redis via %s)", port, redis)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, nil))
}
