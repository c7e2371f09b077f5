package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is the unit of the CPU times in /proc/PID/stat. It is 100 on
// every common Linux build (USER_HZ); a different value only scales the
// CPU columns.
const clockTicks = 100

// cpuSample is the CPU time used so far by each process group the
// benchmark watches.
type cpuSample struct {
	server, loader, postgres, redis time.Duration
}

// sampleCPU reads the CPU time of the server (when s is not nil), this
// process, every process named postgres on the machine, and the private
// redis-server.
func (b *bench) sampleCPU(s *server) cpuSample {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	sample := cpuSample{loader: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	if s != nil {
		sample.server = processCPU(s.cmd.Process.Pid)
	}
	if b.redis != nil {
		sample.redis = processCPU(b.redis.cmd.Process.Pid)
	}
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil && strings.Contains(string(data), "(postgres)") {
			sample.postgres += statCPU(string(data))
		}
	}
	return sample
}

func processCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	return statCPU(string(data))
}

// statCPU returns utime + stime from the text of /proc/PID/stat. The
// fields after the command name, which is in parentheses, start with
// state; utime and stime are the 12th and 13th of them.
func statCPU(stat string) time.Duration {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0
	}
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// perRequest divides the CPU used between two samples by the request
// count.
func perRequest(before, after cpuSample, requests uint64) cpuSample {
	if requests == 0 {
		return cpuSample{}
	}
	n := time.Duration(requests)
	return cpuSample{
		server:   (after.server - before.server) / n,
		loader:   (after.loader - before.loader) / n,
		postgres: (after.postgres - before.postgres) / n,
		redis:    (after.redis - before.redis) / n,
	}
}
