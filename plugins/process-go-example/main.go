// Example Gatehouse process plugin in Go, the same plugin as ../process-example/main.ts without the
// kit: it denies players whose username or uuid is in a ban list file, pushes the backends of a
// lobby pool, and logs what happened to every player. The contract is
// docs/plugins.md §7: JSON lines on stdin/stdout for the lifecycle, 4-byte
// big-endian length-prefixed msgpack frames on a Unix socket for the hooks.
//
// Build: sh plugins/process-go-example/build.sh (writes plugins/process-go-example/bin/guard).
// Config:
//
//	plugins:
//	  - name: guard
//	    type: process
//	    stage: deny
//	    timeout: 250ms
//	    process:
//	      command: ["./plugins/process-go-example/bin/guard"]
//	      config:
//	        ban_list: ./bans.txt
//	        ban_reason: "You are banned from this server."
//	        route_id: lobbies
//	        lobbies: ["10.0.0.1:5520", "10.0.0.2:5520"]
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vmihailenco/msgpack/v5"
)

// Hook types of the envelope's "t"; 1 and 2 are prox's HTTP hooks, which Gatehouse never sends.
const (
	hookOnConnect    = 3
	hookOnDisconnect = 4
	maxFrame         = 1 << 20
)

type envelope struct {
	T uint8  `msgpack:"t"`
	D []byte `msgpack:"d"`
}

// connInfo is the part of on_connect's data this plugin reads; msgpack skips the other keys.
type connInfo struct {
	Route    string `msgpack:"r"`
	SNI      string `msgpack:"d"`
	Client   string `msgpack:"a"`
	Username string `msgpack:"u"`
	UUID     string `msgpack:"id"`
}

// connResult is prox's ConnResult plus Gatehouse's deny reason. "ok" must always be there: a
// frame without it is a plugin error.
type connResult struct {
	OK     bool   `msgpack:"ok"`
	Reason string `msgpack:"rs,omitempty"`
}

type disconnectInfo struct {
	Route      string `msgpack:"r"`
	Target     string `msgpack:"tg"`
	Client     string `msgpack:"a"`
	BytesIn    int64  `msgpack:"rx"`
	BytesOut   int64  `msgpack:"tx"`
	DurationMs int64  `msgpack:"ms"`
	Outcome    string `msgpack:"o"`
	Username   string `msgpack:"u"`
	UUID       string `msgpack:"id"`
}

// settings is everything one configure decided; replaced whole, so a call sees one config.
type settings struct {
	banned  map[string]bool
	reason  string
	routeID string
	lobbies []string
}

type config struct {
	BanList   *string   `json:"ban_list"`
	BanReason *string   `json:"ban_reason"`
	RouteID   *string   `json:"route_id"`
	Lobbies   *[]string `json:"lobbies"`
}

var current atomic.Value // *settings

// stdout carries answers and pushes; one line each, never interleaved.
var stdout struct {
	sync.Mutex
	enc *json.Encoder
}

func send(message any) {
	stdout.Lock()
	defer stdout.Unlock()
	if err := stdout.enc.Encode(message); err != nil {
		os.Exit(0) // the router is gone
	}
}

func push(method string, params any) { send(map[string]any{"method": method, "params": params}) }

func logLine(level, message string, args ...any) {
	if args == nil {
		args = []any{}
	}
	push("log", map[string]any{"level": level, "message": message, "args": args})
}

func main() {
	stdout.enc = json.NewEncoder(os.Stdout)
	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 64<<10), maxFrame)
	var listener net.Listener
	for lines.Scan() {
		var request struct {
			Method string `json:"method"`
			Params struct {
				Socket string          `json:"socket"`
				Config json.RawMessage `json:"config"`
			} `json:"params"`
		}
		if err := json.Unmarshal(lines.Bytes(), &request); err != nil || request.Method != "configure" {
			send(map[string]string{"error": fmt.Sprintf("not a configure request: %.80s", lines.Text())})
			continue
		}
		s, err := load(request.Params.Config)
		if err != nil {
			// At start the router fails the load; on reload it keeps the old config (so do we).
			send(map[string]string{"error": err.Error()})
			continue
		}
		current.Store(s)
		if listener == nil {
			if listener, err = net.Listen("unix", request.Params.Socket); err != nil {
				send(map[string]string{"error": err.Error()})
				continue
			}
			go serve(listener)
			send(map[string]string{"result": "ok"})
			push("ready", map[string]any{
				"socket": request.Params.Socket,
				"hooks":  []string{"on_connect", "on_disconnect"},
			})
		} else {
			send(map[string]string{"result": "ok"})
		}
		push("set_targets", map[string]any{"route_id": s.routeID, "targets": s.lobbies})
	}
	// stdin closed: the router is stopping us.
	if listener != nil {
		listener.Close()
	}
}

// load reads and checks everything before anything is replaced, so a bad reload changes nothing.
func load(raw json.RawMessage) (*settings, error) {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	if c.BanList == nil {
		return nil, errors.New("config.ban_list: a file path is required")
	}
	if c.Lobbies == nil {
		return nil, errors.New(`config.lobbies: a list of "host:port" is required`)
	}
	text, err := os.ReadFile(*c.BanList)
	if err != nil {
		return nil, err
	}
	s := &settings{banned: map[string]bool{}, reason: "You are banned from this server.",
		routeID: "lobbies", lobbies: *c.Lobbies}
	for _, line := range strings.Split(string(text), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if entry := strings.ToLower(strings.TrimSpace(line)); entry != "" {
			s.banned[entry] = true
		}
	}
	if c.BanReason != nil {
		s.reason = *c.BanReason
	}
	if c.RouteID != nil {
		s.routeID = *c.RouteID
	}
	return s, nil
}

func serve(listener net.Listener) {
	for {
		conn, err := listener.Accept()
		if err != nil {
			return // closed: we are stopping
		}
		go serveConn(conn)
	}
}

// serveConn handles one of the router's pooled connections: one call at a time.
func serveConn(conn net.Conn) {
	defer conn.Close()
	reader := bufio.NewReader(conn)
	header := make([]byte, 4)
	for {
		if _, err := io.ReadFull(reader, header); err != nil {
			return // the router closed it (or gave up on a call)
		}
		length := binary.BigEndian.Uint32(header)
		if length > maxFrame {
			logLine("warn", fmt.Sprintf("frame of %d bytes; dropping the connection", length))
			return
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(reader, body); err != nil {
			return
		}
		var env envelope
		if err := msgpack.Unmarshal(body, &env); err != nil {
			logLine("warn", "frame is not an envelope: "+err.Error())
			return
		}
		switch env.T {
		case hookOnConnect:
			answer := onConnect(env.D)
			out := make([]byte, 4+len(answer))
			binary.BigEndian.PutUint32(out, uint32(len(answer)))
			copy(out[4:], answer)
			if _, err := conn.Write(out); err != nil {
				return
			}
		case hookOnDisconnect:
			go onDisconnect(env.D) // fire-and-forget: the next call must not wait for the log
		default:
			logLine("warn", fmt.Sprintf("hook type %d, which Gatehouse never sends", env.T))
			return
		}
	}
}

// onConnect answers a map without "ok" when anything goes wrong, which the router counts as a
// plugin error (its failure_policy decides), as the TypeScript kit does.
func onConnect(data []byte) (answer []byte) {
	defer func() {
		if r := recover(); r != nil {
			logLine("error", fmt.Sprintf("on_connect panicked: %v", r))
			answer, _ = msgpack.Marshal(map[string]any{})
		}
	}()
	var info connInfo
	if err := msgpack.Unmarshal(data, &info); err != nil {
		panic(err)
	}
	s := current.Load().(*settings)
	result := connResult{OK: true}
	for _, id := range []string{info.Username, info.UUID} {
		if id != "" && s.banned[strings.ToLower(id)] {
			result = connResult{OK: false, Reason: s.reason}
		}
	}
	answer, err := msgpack.Marshal(&result)
	if err != nil {
		panic(err)
	}
	return answer
}

func onDisconnect(data []byte) {
	var info disconnectInfo
	if err := msgpack.Unmarshal(data, &info); err != nil {
		logLine("warn", "on_disconnect data: "+err.Error())
		return
	}
	name := info.Username
	if name == "" {
		name = "?"
	}
	logLine("info", name+" "+info.Outcome, map[string]any{
		"target": info.Target, "client": info.Client, "ms": info.DurationMs,
	})
}
