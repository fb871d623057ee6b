# Sourced by the servers' stop.sh: stop_pids NAME PID... sends TERM to the pids, waits up to
# 10 s for them to end (a zombie counts as ended: an orphan waits for pid 1 to reap it, which
# can take a while), then KILLs what is left, and says which pids it stopped.

# Alive and not a zombie.
running() { [[ -r /proc/$1/stat ]] && [[ $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) != Z ]]; }

stop_pids() {
  local name=$1 p alive=()
  shift
  (($#)) || return 0
  kill -TERM "$@" 2>/dev/null
  for _ in $(seq 100); do
    alive=()
    for p in "$@"; do running "$p" && alive+=("$p"); done
    ((${#alive[@]})) || break
    sleep 0.1
  done
  if ((${#alive[@]})); then
    kill -KILL "${alive[@]}" 2>/dev/null
    sleep 0.2
  fi
  echo "$name: stopped pids $*"
}
