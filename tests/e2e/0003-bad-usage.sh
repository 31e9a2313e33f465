#!/usr/bin/env bash
# 0003 — the command line: usage errors exit 2 with a message that names the problem,
# I/O errors exit non-zero with one clear line naming the file, and a YAML config file
# (-c) really changes the computation (5-minute category_revenue windows, checked
# against the model run with the same setting). --print-config shows what the file, the
# environment and the flags add up to, masks secrets, reads back through -c to the same
# configuration, runs the checks between keys and those of every sink URL (in the words of
# a run) and opens nothing.
source "$(dirname "$0")/lib.sh"
need_bin
D=$E2E_DIR/data/0001

# expect_exit WANT(2|nonzero) GREP-PATTERN DESCRIPTION -- ARGS...: runs the engine with
# ARGS; its exit status must be WANT (nonzero: any failure that is not a crash) and its
# stderr must match the pattern.
expect_exit() {
    local want=$1 pat=$2 what=$3; shift 4
    local rc=0
    "$SHOPSTREAM_BIN" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
    if [ "$want" = nonzero ]; then
        { [ $rc -ne 0 ] && [ $rc -lt 128 ]; } || fail "$what: exit $rc, expected a clean failure (1..127)"
    else
        [ $rc -eq "$want" ] || fail "$what: exit $rc, expected $want (stderr: $(head -c 300 "$T/err"))"
    fi
    grep -q -- "$pat" "$T/err" || fail "$what: stderr does not mention '$pat': $(head -c 300 "$T/err")"
    note "$what: exit $rc: $(grep -m1 -- "$pat" "$T/err")"
}

"$SHOPSTREAM_BIN" run --help >"$T/help" 2>&1 || fail "run --help exited non-zero"
grep -q -- "--input" "$T/help" || fail "run --help does not describe --input"
# CSV on stdin without --format csv is read as JSON: every line is a dead letter, and the
# first one says why at once (a JSON stream with a bad first record does not)
printf 'event_id,event_type,user_id,product_id,ts\ne1,view,u1,p1,2026-11-27T10:00:00Z\n' |
    "$SHOPSTREAM_BIN" run --input clicks=- --sink "jsonl:$T/csvjson" 2>"$T/err" || fail "CSV read as JSON: exit non-zero"
grep -q 'looks like CSV: every record will be a dead letter; for CSV give --format csv' "$T/err" ||
    fail "CSV read as JSON: no hint: $(head -c 300 "$T/err")"
[ "$(wc -l <"$T/csvjson/dlq.jsonl")" -eq 2 ] || fail "CSV read as JSON: expected 2 dead letters"
printf '{"event_id":"e1",\n' | "$SHOPSTREAM_BIN" run --input clicks=- --sink "jsonl:$T/badjson" 2>"$T/err" ||
    fail "bad JSON on stdin: exit non-zero"
grep -q 'looks like CSV' "$T/err" && fail "a broken JSON record was taken for CSV"
note "CSV read as JSON: 2 dead letters and the hint; a broken JSON record gives no hint"
# ... and so does JSON spread over lines: pretty-printed, or an array on one line
printf '[\n  {"event_id": "e1"}\n]\n' | "$SHOPSTREAM_BIN" run --input clicks=- --sink "jsonl:$T/pretty" 2>"$T/err" ||
    fail "pretty-printed JSON: exit non-zero"
grep -q "the first record is a lone '\['.*jq -c '.\[\]'" "$T/err" || check_failed "pretty-printed JSON: no hint: $(head -c 300 "$T/err")"
printf '[{"event_id": "e1"},{"event_id": "e2"}]\n' | "$SHOPSTREAM_BIN" run --input clicks=- --sink "jsonl:$T/array" 2>"$T/err" ||
    fail "a JSON array: exit non-zero"
grep -q "the first record is a JSON array" "$T/err" || check_failed "a JSON array: no hint: $(head -c 300 "$T/err")"
# every command has --help, version too (it printed the version); an argument it does not take is named
"$SHOPSTREAM_BIN" version --help >"$T/help" 2>&1 || fail "version --help exited non-zero"
grep -q "^usage: shopstream version" "$T/help" || fail "version --help prints no usage: $(head -c 200 "$T/help")"
expect_exit 2 'unexpected argument "now"' "an argument to version" -- version now
# getopt's own messages carry the command's whole name, as every other message does (they began "run:")
expect_exit 2 "^shopstream run: unrecognized option '--no-such-flag'" "unknown flag" -- run --no-such-flag --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x"
expect_exit 2 "^shopstream run: option '--input' requires an argument" "flag without its value" -- run --input
expect_exit 2 "^shopstream demo: unrecognized option '--no-such-flag'" "unknown demo flag" -- demo --no-such-flag
expect_exit 2 "^shopstream report: unrecognized option '--no-such-flag'" "unknown report flag" -- report --no-such-flag
# a savepoint resumes inputs at positions: a file has none to resume at (refused before any sink opens)
expect_exit 2 "savepoints need Kafka inputs" "savepoint.path with a file input" -- run --input clicks="$D/clicks.jsonl" \
    --set savepoint.path="$T/sp" --sink "jsonl:$T/sp-out"
[ ! -e "$T/sp-out" ] || fail "savepoint.path with a file input: the sink was opened before the refusal"
expect_exit 2 "savepoints need Kafka inputs" "savepoint.path with a file input, --print-config" -- run --print-config \
    --input clicks="$D/clicks.jsonl" --set savepoint.path="$T/sp"
expect_exit 2 "no.such.key" "unknown config key" -- run --set no.such.key=1 --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x"
expect_exit 2 "lateness" "bad config value" -- run --set lateness=abc --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x"
# durations stop at 100 years: lateness=INT64_MAX ms wrapped the watermark around
expect_exit 2 'lateness: "9223372036854775807" is not a duration of at most 36500d' "endless lateness" -- \
    run --set lateness=9223372036854775807 --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x"
# keys with a fixed set of values name them; names of things must not be empty (the empty
# field name sent every record to the dead letters, the empty group id joined "shopstream")
expect_exit 2 'log.level: "loud" is not one of debug, info, warn, error' "bad log level" -- \
    run --set log.level=loud --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x"
expect_exit 2 'log.level: "" is not one of' "empty log level" -- run --print-config --set log.level=
SHOPSTREAM_LOG_LEVEL=verbose expect_exit 2 'SHOPSTREAM_LOG_LEVEL: config key log.level: "verbose"' \
    "bad log level in the environment" -- run --print-config
# the demo reads SHOPSTREAM_* as run does (it ignored them)
SHOPSTREAM_LATENESS=abc expect_exit 2 'SHOPSTREAM_LATENESS: config key lateness: "abc"' \
    "demo: bad lateness in the environment" -- demo --seconds 1 --data "$T/demo-env"
# lists from the environment are cut at the commas that begin an item, not at a URL's own
# (several brokers or PostgreSQL hosts): each URL below was split into two items before
SHOPSTREAM_INPUTS='clicks=kafka://k1:9092,k2:9092/clicks,,promotions=p.jsonl,' \
    SHOPSTREAM_SINKS='kafka://k1:9092,k2:9092,postgresql://u@h1:5432,h2:5433/db,jsonl:out' \
    "$SHOPSTREAM_BIN" run --print-config >"$T/envlist.yml" 2>"$T/err" || fail "env lists refused: $(cat "$T/err")"
got=$(sed -n '/^inputs:/,/^sink\./p' "$T/envlist.yml" | tr -d ' \n')
want='inputs:-"clicks=kafka://k1:9092,k2:9092/clicks"-"promotions=p.jsonl"sinks:-"kafka://k1:9092,k2:9092"'
want+='-"postgresql://u@h1:5432,h2:5433/db"-"jsonl:out"'
[ "${got%sink.*}" = "$want" ] || check_failed "SHOPSTREAM_INPUTS/SINKS split wrongly: $got"
note "SHOPSTREAM_INPUTS/SINKS keep the commas of multi-host URLs"
# a variable that is a typo of a key, or a librdkafka property, did nothing without a word
SHOPSTREAM_SINK=jsonl:x SHOPSTREAM_KAFKA_SASL_PASSWORD=pw SHOPSTREAM_WRAPPER_HOME=/opt \
    "$SHOPSTREAM_BIN" run --print-config >/dev/null 2>"$T/err" || fail "unknown SHOPSTREAM_ variables refused"
grep -q 'SHOPSTREAM_SINK names no configuration key and is ignored: did you mean SHOPSTREAM_SINKS?' "$T/err" ||
    check_failed "no warning for SHOPSTREAM_SINK: $(cat "$T/err")"
grep -q 'SHOPSTREAM_KAFKA_SASL_PASSWORD is not read: give librdkafka properties with -X' "$T/err" ||
    check_failed "no warning for SHOPSTREAM_KAFKA_SASL_PASSWORD: $(cat "$T/err")"
! grep -q 'WRAPPER_HOME' "$T/err" || check_failed "a SHOPSTREAM_ variable far from every key was warned about"
# ... and so did -X (kafka.*) in a run with no Kafka input or sink, a misspelt property too;
# the warning names the property, not its value (a password, say)
"$SHOPSTREAM_BIN" run --print-config --input clicks="$D/clicks.jsonl" -X sasl.pasword=hunter2 -X acks=all \
    >/dev/null 2>"$T/err" || fail "-X without Kafka refused"
grep -q 'no input or sink is Kafka: they are not used" properties=2 first="sasl.pasword"' "$T/err" ||
    check_failed "no warning for -X without Kafka: $(cat "$T/err")"
! grep -q hunter2 "$T/err" || check_failed "the warning for -X without Kafka shows the value"
"$SHOPSTREAM_BIN" run --print-config --input clicks="kafka://127.0.0.1:9/clicks" -X acks=all >/dev/null 2>"$T/err" ||
    fail "-X with a Kafka input refused"
! grep -q 'they are not used' "$T/err" || check_failed "-X with a Kafka input warned about"
expect_exit 2 'input.max_record_bytes must be between 1024 and 67108864' "a record limit out of range" -- \
    run --print-config --set input.max_record_bytes=100 --input clicks="$D/clicks.jsonl"
expect_exit 2 'unknown config key "sesions.gap" (did you mean sessions.gap?' "a misspelt key" -- \
    run --print-config --set sesions.gap=1h
expect_exit 2 'format: "xml" is not one of auto, json, csv' "bad --format" -- run --print-config --format xml
expect_exit 2 "fields.clicks.ts: the value must not be empty" "empty field name" -- \
    run --set fields.clicks.ts= --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x"
expect_exit 2 "kafka.group_id: the value must not be empty" "empty group id" -- run --print-config --set kafka.group_id=
# ... in any case, as the engine spells them: log.level=ERROR is error (no info lines)
"$SHOPSTREAM_BIN" run --print-config --set log.level=ERROR --format CSV >"$T/case.yml" 2>"$T/case.err" ||
    fail "log.level=ERROR --format CSV refused: $(cat "$T/case.err")"
grep -qx 'log.level: "error"' "$T/case.yml" && grep -qx 'format: "csv"' "$T/case.yml" ||
    check_failed "log.level=ERROR / --format CSV not stored as error / csv: $(grep -e '^log' -e '^format' "$T/case.yml")"
"$SHOPSTREAM_BIN" run --set log.level=ERROR --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/case" 2>"$T/case.err" ||
    fail "a run with log.level=ERROR failed: $(tail -n 2 "$T/case.err")"
! grep -q 'level=info' "$T/case.err" || check_failed "log.level=ERROR still logs info lines: $(head -n 2 "$T/case.err")"
# a config file is one YAML document of UTF-8 text that gives each key once (else the last
# of two would silently win, or a second document be ignored); -c of a directory says so
printf 'lateness: 10m\nrecent.size: 3\nlateness: 5m\n' >"$T/dup.yml"
expect_exit 2 'dup.yml:3: key "lateness" is given twice (lines 1 and 3)' "a key twice in a file" -- run --print-config -c "$T/dup.yml"
printf 'windows:\n  funnel: 1h\nlateness: 1m\nwindows:\n  hourly_sales: 1h\n' >"$T/dup.yml"
expect_exit 2 'dup.yml:4: key "windows" is given twice (lines 1 and 4)' "a section twice in a file" -- run --print-config -c "$T/dup.yml"
printf 'windows.funnel: 1h\nwindows: { funnel: 2h }\n' >"$T/dup.yml"
expect_exit 2 'key "windows.funnel" is given twice (lines 1 and 2)' "a key twice, dotted and nested" -- run --print-config -c "$T/dup.yml"
printf 'lateness: 10m\n---\nlateness: 5m\n' >"$T/multi.yml"
expect_exit 2 'multi.yml:2: a second YAML document' "a second YAML document" -- run --print-config -c "$T/multi.yml"
mkdir -p "$T/dir.yml"
expect_exit 2 'dir.yml is a directory' "-c of a directory" -- run --print-config -c "$T/dir.yml"
printf 'lateness: 10m\n# caf\xe9 (Latin-1)\n' >"$T/latin1.yml"
expect_exit 2 'latin1.yml:2: the file is not valid UTF-8' "a Latin-1 config file" -- run --print-config -c "$T/latin1.yml"
printf '\xff\xfelateness: 10m\n' >"$T/ff.yml"
expect_exit 2 "ff.yml: the file is not valid UTF-8, nor the UTF-16" "a config file that starts like UTF-16" -- \
    run --print-config -c "$T/ff.yml"
# ... while a UTF-8 byte order mark, --- and ..., and one section reached nested and dotted are fine
printf '\xef\xbb\xbf---\nwindows: { trending: { size: 12m } }\nwindows.trending.top: 7\n...\n' >"$T/ok.yml"
"$SHOPSTREAM_BIN" run --print-config -c "$T/ok.yml" >"$T/ok.out" 2>"$T/ok.err" || fail "ok.yml refused: $(cat "$T/ok.err")"
grep -qx 'windows.trending.size: 12m' "$T/ok.out" && grep -qx 'windows.trending.top: 7' "$T/ok.out" ||
    check_failed "ok.yml: its keys did not arrive: $(grep '^windows.trending' "$T/ok.out")"
# a value names environment variables (a secret kept off the command line and out of the
# file): ${NAME}, ${NAME:-default}, $$ for one $; an unset one is refused naming file,
# line and key; --print-config writes $ as $$, so that its output reads back (below)
printf 'lateness: ${E2E_LATE}\nkafka.sasl.password: "${E2E_PW}"\nsessions.gap: ${E2E_NO_GAP:-45m}\nfields.clicks.user_id: "u$$id$x"\nsinks:\n  - "jsonl:${E2E_OUT}"\n' >"$T/env.yml"
E2E_LATE=7m E2E_PW=hunter3 E2E_OUT=/srv/o "$SHOPSTREAM_BIN" run --print-config -c "$T/env.yml" >"$T/env.out" 2>"$T/env.err" ||
    fail "env.yml refused: $(cat "$T/env.err")"
for want in 'lateness: 7m' 'sessions.gap: 45m' 'fields.clicks.user_id: "u$$id$$x"' '  - "jsonl:/srv/o"' \
    '# kafka.sasl.password: (set, hidden)'; do
    grep -qxF -- "$want" "$T/env.out" || check_failed "env.yml: no line '$want' in --print-config: $(cat "$T/env.out")"
done
! grep -q hunter3 "$T/env.out" || check_failed "env.yml: --print-config printed the password from the environment"
E2E_LATE=7m E2E_PW=hunter3 expect_exit 2 'env.yml:6: sinks: ${E2E_OUT} is not set in the environment' \
    "an unset variable in a config file" -- run --print-config -c "$T/env.yml"
printf 'lateness: "${E2E_LATE"\n' >"$T/env.yml"
expect_exit 2 'env.yml:1: lateness: "${E2E_LATE" has no closing }' "an unclosed \${ in a config file" -- \
    run --print-config -c "$T/env.yml"
# a mistyped sink option: every sink names it, none silently ignores it or makes it a file name
expect_exit 2 "mode=overwrite" "bad jsonl option" -- run --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x?mode=overwrite"
expect_exit 2 "file_rows" "bad parquet option" -- run --input clicks="$D/clicks.jsonl" --sink "parquet:$T/lake?file_rows=many"
expect_exit 2 "takes no options" "sqlite option" -- run --input clicks="$D/clicks.jsonl" --sink "sqlite:$T/x.db?journal=off"
[ ! -e "$T/x.db?journal=off" ] || fail "sqlite option: created a file named after the option"
expect_exit 2 "takes no options" "console option" -- run --input clicks="$D/clicks.jsonl" --sink "console:every=1s"
# Kafka names and properties are checked before any broker is contacted (port 9 has none)
expect_exit 2 "not a Kafka topic name" "bad input topic" -- run --input "clicks=kafka://127.0.0.1:9/clicks?group=x"
expect_exit 2 "not a Kafka topic name" "bad output topic" -- \
    run --input clicks="$D/clicks.jsonl" --sink "kafka://127.0.0.1:9?alerts=shop/alerts"
expect_exit 2 "expects PROP=VALUE" "-X without a value" -- run -X security.protocol --input clicks="$D/clicks.jsonl"
expect_exit 2 "without --stream all three" "produce --topic without --stream" -- \
    produce --brokers 127.0.0.1:9 --topic clicks1 --events 10
expect_exit 2 "clicks-topic" "produce bad --clicks-topic" -- produce --brokers 127.0.0.1:9 --clicks-topic 'a b' --events 10
expect_exit 2 "--compression is a Kafka producer option: give --brokers too" "produce --compression to a file" -- \
    produce --compression lz4 --events 5 --out "$T/five.jsonl"
# --reorder defaults to half of --late only within the room left: --late 1 alone is every
# record late (it failed over a sum with a --reorder never given), a --reorder given still counts
"$SHOPSTREAM_BIN" produce --late 1 --events 1000 --out "$T/late1.jsonl" 2>"$T/late1.err" ||
    fail "produce --late 1: $(cat "$T/late1.err")"
grep -q ' late=999 reordered=0 ' "$T/late1.err" || check_failed "produce --late 1: $(cat "$T/late1.err")"
expect_exit 2 "add up to more than 1" "produce --late 1 --reorder 0.1" -- produce --late 1 --reorder 0.1 --events 5
# an orders CSV whose header lacks a required column: every row is a dead letter, and the
# run says why at the start instead of leaving it to the dlq
printf 'order_id,cust,product_id,price,order_ts\nO1,C1,P1,1.00,2026-11-27T10:00:00Z\n' >"$T/nocust.csv"
"$SHOPSTREAM_BIN" run --input orders="$T/nocust.csv" --sink "jsonl:$T/nocust" 2>"$T/nocust.err" ||
    check_failed "a CSV header without customer_id failed the run: $(cat "$T/nocust.err")"
grep -q 'no column for a required field.*stream=orders missing="customer_id (fields.orders.user_id)"' "$T/nocust.err" ||
    check_failed "no warning about the CSV header without customer_id: $(cat "$T/nocust.err")"
grep -q '"reason":"missing_user_id"' "$T/nocust/dlq.jsonl" || check_failed "the row without customer_id is not a missing_user_id dead letter"
expect_exit 2 "given twice" "one destination twice" -- run --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x" --sink "jsonl:$T/x/"
expect_exit 2 "given twice" "one input twice" -- run --input clicks="$D/clicks.jsonl" --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x"
expect_exit 2 "reads the file of input clicks=$D/clicks.jsonl as another stream" "one file as two streams" -- \
    run --input clicks="$D/clicks.jsonl" --input promotions="$D/clicks.jsonl" --sink "jsonl:$T/x"
expect_exit 2 "read only once" "stdin twice" -- run --input clicks=- --input orders=- --sink "jsonl:$T/x"
expect_exit 2 'sink metrics:127.0.0.1:9?linger=1s and http.listen "127.0.0.1:9" name one endpoint' "one metrics endpoint twice" -- \
    run --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/x" --sink "metrics:127.0.0.1:9?linger=1s" --set http.listen=127.0.0.1:9
# a topic read as two streams: refused before any broker is contacted (port 9 answers nothing)
expect_exit 2 "reads the topic of input clicks=kafka://127.0.0.1:9/clicks as another stream" "one topic as two streams" -- \
    run --input clicks=kafka://127.0.0.1:9/clicks --input orders=kafka://127.0.0.1:9/clicks --sink "jsonl:$T/x"

# A signal while start-up still waits (a sink's server down, brokers not answering; both
# wait for a minute or more by default) stops at once and cleanly: exit 0, not death by
# the signal (143), and the log says why. Nothing was read, so nothing is written.
stop_during_startup() {
    local what=$1 pat=$2; shift 2
    signal_when "$pat" TERM "$T/st.err" "$SHOPSTREAM_BIN" run "$@"
    [ "$SIGNALLED_RC" -eq 0 ] ||
        fail "$what: SIGTERM during start-up: exit $SIGNALLED_RC, expected 0: $(tail -n 3 "$T/st.err")"
    [ "$SIGNALLED_S" -le 10 ] || check_failed "$what: took $SIGNALLED_S s to stop"
    grep -q 'msg="stopped during start-up"' "$T/st.err" || check_failed "$what: no 'stopped during start-up' in the log"
    note "$what: SIGTERM during start-up: exit 0 in $SIGNALLED_S s"
}
stop_during_startup "a PostgreSQL sink that is down" "sink not reachable yet" \
    --input clicks="$D/clicks.jsonl" --sink "postgresql://shop@127.0.0.1:9/shop" --sink "jsonl:$T/st"
[ ! -s "$T/st/dlq.jsonl" ] || check_failed "a run stopped during start-up wrote rows"
stop_during_startup "Kafka brokers that do not answer" "brokers not answering" \
    --input clicks="kafka://127.0.0.1:9/clicks" --sink "jsonl:$T/st"
# ... and given up after kafka.connect_timeout: exit 1, each Kafka error logged once in 30 s,
# with a count of the repeats not logged (a deleted topic gave one a second per partition)
expect_exit 1 "did not answer within 10 s" "Kafka brokers down for kafka.connect_timeout" -- \
    run --input clicks="kafka://127.0.0.1:9/clicks" --sink "jsonl:$T/st" --set kafka.connect_timeout=10s
n=$(grep 'msg="Kafka error"' "$T/err" | grep -o 'err="[^"]*"' | sort | uniq -d | wc -l)
[ "$n" -eq 0 ] || check_failed "a Kafka error logged more than once in 10 s: $(grep 'msg="Kafka error"' "$T/err" | head -5)"
# a Kafka sink whose brokers are down waits sink.connect_timeout, as the other sinks do (it
# waited 30 s whatever the setting)
expect_exit 1 "did not answer within 3 s" "Kafka sink brokers down for sink.connect_timeout" -- \
    run --input clicks="$D/clicks.jsonl" --sink "kafka://127.0.0.1:9" --set sink.connect_timeout=3s

# A graceful stop commits the current epoch, and a sink that cannot commit is retried for
# minutes (here the jsonl sink's dead-letter file is a FIFO, in which it cannot seek: a
# retryable error, like a full disk or a hung mount). The first SIGTERM says so and how to
# get out; the second ends the process at once, as a crash would: death by the signal (143).
mkdir -p "$T/hung" && mkfifo "$T/hung/dlq.jsonl" || fail "cannot make a FIFO in $T/hung"
"$SHOPSTREAM_BIN" run --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/hung" 2>"$T/hung.err" &
hp=$!
E2E_CLEANUPS+=("kill -KILL $hp")
poll_until 60 "the jsonl sink to retry its commit" grep -q 'sink unavailable, input paused, retrying' "$T/hung.err"
kill -TERM "$hp"
poll_until 30 "the engine to log that it is stopping" grep -q 'msg="stopping: committing the current epoch"' "$T/hung.err"
grep -q 'second SIGINT or SIGTERM ends the process at once' "$T/hung.err" ||
    check_failed "the stopping line does not say what a second signal does"
kill -0 "$hp" 2>/dev/null || fail "the engine exited on the first SIGTERM although its sink could not commit"
t0=$SECONDS
kill -TERM "$hp"
timeout 10 tail --pid="$hp" -f /dev/null || fail "a second SIGTERM did not end the engine within 10 s"
rc=0
wait "$hp" || rc=$?
[ $rc -eq 143 ] || check_failed "a second SIGTERM: exit $rc, expected 143 (the signal's default action)"
note "sink that cannot commit: the first SIGTERM logged the stop, the second ended the run in $((SECONDS - t0)) s (exit $rc)"

# produce stopped mid-run by SIGINT: exit 0, logged as stopped, and the file ends on a whole
# record: exactly the first lines of the same generator run to its end (byte for byte).
stop_produce INT "$T/paced.err" --out "$T/paced.jsonl" --rate 2000 --duration 60 --seed 4 --invalid 0.05
n=$(wc -l <"$T/paced.jsonl")
"$SHOPSTREAM_BIN" produce --out "$T/whole.jsonl" --rate 2000 --events 120000 --seed 4 --invalid 0.05 2>/dev/null ||
    fail "produce --events failed"
{ [ "$n" -gt 0 ] && [ "$n" -lt 120000 ] && head -n "$n" "$T/whole.jsonl" | cmp -s - "$T/paced.jsonl"; } ||
    check_failed "the stopped file ($n lines) is not the first lines of the whole run"
note "produce stopped by SIGINT after $n records: exit 0, the file is the whole run's first $n lines"
expect_exit 2 "unknown sink" "unknown sink scheme" -- run --input clicks="$D/clicks.jsonl" --sink "jsnl:$T/x"
# a path given that names no file is the user's to fix, as an empty pattern is (it exited 1)
expect_exit 2 "cannot open input $T/does-not-exist.jsonl: No such file or directory" "missing input file" -- \
    run --input clicks="$T/does-not-exist.jsonl" --sink "jsonl:$T/x"
[ "$(grep -c . "$T/err")" -le 3 ] || fail "missing input file: expected one clear line, got: $(cat "$T/err")"
expect_exit 2 "cannot open $T/does-not-exist.csv: No such file or directory" "produce --csv: missing file" -- \
    produce --csv "$T/does-not-exist.csv" --brokers 127.0.0.1:9 --topic orders
gzip -c "$D/clicks.jsonl" | head -c 400 > "$T/cut.jsonl.gz"
expect_exit nonzero "cut short" "truncated gzip input" -- run --input clicks="$T/cut.jsonl.gz" --sink "jsonl:$T/x"
: > "$T/a-file"
# a file where a sink's directory must be is the user's path to fix: exit 2, as for sqlite: on
# a directory (jsonl: and parquet: exited 1, parquet naming its .tmp/ rather than the path given)
expect_exit 2 "$T/a-file is not a directory" "jsonl: under a file" -- \
    run --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/a-file/out"
expect_exit 2 "$T/a-file is not a directory" "jsonl: on a file" -- \
    run --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/a-file"
expect_exit 2 "parquet sink: $T/a-file is not a directory" "parquet: on a file" -- \
    run --input clicks="$D/clicks.jsonl" --sink "parquet:$T/a-file"
expect_exit 2 "unable to open database file" "sqlite: on a directory" -- \
    run --input clicks="$D/clicks.jsonl" --sink "sqlite:$T"

# missing directories are created: run's default sink (data/shopstream.db, plus console:) in a
# directory without data/, a sqlite: path and produce's outputs under directories not there yet
mkdir -p "$T/fresh" && cd "$T/fresh" || fail "no $T/fresh"
"$SHOPSTREAM_BIN" run --input clicks="$D/clicks.jsonl" >"$T/fresh.out" 2>"$T/fresh.err" ||
    fail "run without --sink where data/ does not exist: $(tail -n 2 "$T/fresh.err")"
n=$(sqlite3 data/shopstream.db "SELECT count(*) FROM dlq") || fail "no data/shopstream.db after run without --sink"
[ "$n" -gt 0 ] || check_failed "data/shopstream.db holds no dlq rows"
"$SHOPSTREAM_BIN" run --input clicks="$D/clicks.jsonl" --sink "sqlite:$T/fresh/x/y/z.db" 2>"$T/fresh2.err" ||
    fail "sqlite: into missing directories: $(tail -n 2 "$T/fresh2.err")"
[ "$(sqlite3 "$T/fresh/x/y/z.db" "SELECT count(*) FROM dlq")" = "$n" ] || check_failed "sqlite:x/y/z.db differs from data/shopstream.db"
"$SHOPSTREAM_BIN" produce --stream clicks --events 100 --out "$T/fresh/a/b/c.jsonl" 2>"$T/fresh3.err" ||
    fail "produce --out into missing directories: $(cat "$T/fresh3.err")"
"$SHOPSTREAM_BIN" produce --events 100 --out-dir "$T/fresh/d/e" 2>"$T/fresh4.err" ||
    fail "produce --out-dir into missing directories: $(cat "$T/fresh4.err")"
[ "$(wc -l <"$T/fresh/a/b/c.jsonl")" -eq 100 ] && [ -s "$T/fresh/d/e/clicks.jsonl" ] ||
    check_failed "produce wrote nothing into the directories it created"
note "missing directories created: data/shopstream.db ($n dlq rows), x/y/z.db, a/b/c.jsonl, d/e/"

# -c FILE.yml: windows.category_revenue = 5m
cat > "$T/five.yml" <<'YML'
# five-minute revenue windows
windows:
  category_revenue: 5m
YML
cd "$D" || fail "no $D"
run_engine "$T/five" -c "$T/five.yml" --input promotions=promotions.jsonl --input orders=orders.csv --input clicks=clicks.jsonl
compare_with_model "$T/five" --set windows.category_revenue=5m promotions=promotions.jsonl orders=orders.csv clicks=clicks.jsonl
# by hand: [10:00, 10:05) electronics = views E1 E50 E4 E11, cart_add E2, purchases
# order E3 (39.98; the click E3 is its duplicate) O1 (25.00) O5 (0.01) E12 (150.00 x 2)
# -> 364.99, 4 orders, 6 units, buyers U1 U2 U3.

# --print-config: defaults < YAML < SHOPSTREAM_* < flags, each layer visible in the result
mkdir -p "$T/pc" && cd "$T/pc" || fail "no $T/pc"
SHOPSTREAM_LATENESS=90s SHOPSTREAM_RECENT_SIZE=7 "$SHOPSTREAM_BIN" run --print-config -c "$T/five.yml" \
    --set recent.size=9 --set 'fields.promotions.promo_id=p$id' --input clicks="$D/clicks.jsonl" --sink "postgresql://shop:s3cret@db:5432/a" \
    -X sasl.password=hunter2 -X security.protocol=SASL_SSL >"$T/pc.yml" 2>"$T/pc.err" ||
    fail "run --print-config exited non-zero: $(cat "$T/pc.err")"
for want in 'windows.category_revenue: 5m' 'lateness: 90s' 'recent.size: 9' 'sessions.gap: 30m' \
    'alerts.high_value.threshold: "1000.00"' 'kafka.security.protocol: "SASL_SSL"' \
    '  - "postgresql://shop:\*\*\*@db:5432/a"' '# kafka.sasl.password: (set, hidden)' \
    'fields.promotions.promo_id: "p\$\$id"'; do
    grep -qx -- "$want" "$T/pc.yml" || check_failed "--print-config: no line '$want' in: $(cat "$T/pc.yml")"
done
! grep -q 's3cret\|hunter2' "$T/pc.yml" || check_failed "--print-config printed a secret"
# an amount with more than two decimals prints them all (it printed "1000.12" for 1000.125)
"$SHOPSTREAM_BIN" run --print-config --set alerts.high_value.threshold=1000.125 2>&1 |
    grep -qx 'alerts.high_value.threshold: "1000.125"' || check_failed "--print-config rounded a threshold of 1000.125"
[ -z "$(ls -A "$T/pc")" ] || check_failed "--print-config created files: $(ls -A "$T/pc")"
"$SHOPSTREAM_BIN" run -c "$T/pc.yml" --print-config >"$T/pc2.yml" 2>"$T/pc2.err" ||
    fail "its output does not read back through -c: $(cat "$T/pc2.err")"
diff <(grep -v 'sasl.password' "$T/pc.yml") "$T/pc2.yml" >"$T/pc.diff" ||
    check_failed "--print-config of its own output differs: $(cat "$T/pc.diff")"
cd "$D" || fail "no $D"
expect_exit 2 "must be a multiple" "--print-config checks keys together" -- \
    run --print-config --set windows.trending.slide=3m
expect_exit 2 'unknown stream "views"' "--print-config checks inputs" -- run --print-config --input views=x.jsonl
# ... and every sink's URL and options, and http.listen (named as the key the user set), as a
# run checks them before it reads anything: exit 2 with the very line a run over a file prints.
# refused_like_run PATTERN DESCRIPTION ARGS...: both with ARGS.
refused_like_run() {
    local pat=$1 what=$2 rc=0; shift 2
    expect_exit 2 "$pat" "--print-config: $what" -- run --print-config "$@"
    "$SHOPSTREAM_BIN" run --input clicks="$D/clicks.jsonl" --sink "jsonl:$T/pcrun" "$@" >/dev/null 2>"$T/run.err" \
        </dev/null || rc=$?
    [ $rc -eq 2 ] && [ "$(tail -n 1 "$T/err")" = "$(tail -n 1 "$T/run.err")" ] ||
        check_failed "$what: --print-config says '$(tail -n 1 "$T/err")', a run (exit $rc) '$(tail -n 1 "$T/run.err")'"
}
refused_like_run 'parquet sink: compression must be zstd, snappy or none, got "lz4"' "parquet compression" \
    --sink "parquet:$T/pcl?compression=lz4"
refused_like_run 'parquet sink: unknown option "bogus" (known: compression,' "parquet option" --sink "parquet:$T/pcl?bogus=1"
refused_like_run 'sink jsonl:: jsonl sink needs a directory: jsonl:DIR' "jsonl without a directory" --sink "jsonl:"
refused_like_run 'sink sqlite:: sqlite: needs a file path' "sqlite without a path" --sink "sqlite:"
refused_like_run 'console sink takes no options: write console:' "console option" --sink "console:foo"
refused_like_run 'bad PostgreSQL URL: port "abc" is not a number in 1..65535' "PostgreSQL port not a number" \
    --sink "postgresql://u@127.0.0.1:abc/db"
refused_like_run 'sink redis://h:6379/abc: bad Redis URL (expected redis://' "Redis database not a number" \
    --sink "redis://h:6379/abc"
refused_like_run 'alerts: "a/b" is not a Kafka topic name' "Kafka output topic" --sink "kafka://127.0.0.1:9?alerts=a/b"
# the same for Kafka inputs: their URL and the -X / kafka.* properties their consumer gets
refused_like_run 'Kafka input "kafka://127.0.0.1:9": expected kafka://HOST:PORT/TOPIC' "Kafka input without a topic" \
    --input "clicks=kafka://127.0.0.1:9"
refused_like_run 'Kafka property foo.bar=1: No such configuration property: "foo.bar"' "unknown -X for a Kafka input" \
    --input "clicks=kafka://127.0.0.1:9/clicks" -X foo.bar=1
refused_like_run 'Kafka property fetch.min.bytes=abc: Invalid value' "bad kafka.* value for a Kafka input" \
    --input "orders=kafka://127.0.0.1:9/orders" --set kafka.fetch.min.bytes=abc
refused_like_run 'bad PostgreSQL URL (expected postgresql://USER@HOST:PORT/DB): invalid URI query parameter: "bogus"' \
    "PostgreSQL URL parameter" --sink "postgresql://h/db?bogus=1"
refused_like_run 'sink metrics:foo: bad metrics address "metrics:foo": expected metrics:HOST:PORT' "metrics address" \
    --sink "metrics:foo"
refused_like_run 'http.listen "foo": sink metrics:foo: bad metrics address' "http.listen without a port" \
    --set http.listen=foo
refused_like_run 'http.listen "127.0.0.1:99999": sink metrics:127.0.0.1:99999: bad metrics port "99999"' \
    "http.listen port out of range" --set http.listen=127.0.0.1:99999
[ ! -e "$T/pcl" ] || check_failed "a refused parquet sink created its directory"
# ... while valid sinks of every kind pass, and nothing is created or contacted: no database,
# directory or lake, and the servers at closed ports are not waited for
mkdir -p "$T/pcok" || fail "no $T/pcok"
t0=$(date +%s%N)
"$SHOPSTREAM_BIN" run --print-config --sink "sqlite:$T/pcok/db/x.db" --sink "jsonl:$T/pcok/out?mode=append" \
    --sink "parquet:$T/pcok/lake?compression=snappy&roll_interval=5m" --sink console: \
    --sink "postgresql://shop@127.0.0.1:9/shop" --sink "postgres://127.0.0.1:9/shop?connect_timeout=30" \
    --sink "redis://:pw@127.0.0.1:9/2?window_ttl=48h" --sink "kafka://127.0.0.1:9?alerts=al&dlq=dead" \
    --sink "metrics:127.0.0.1:0?linger=5s" --set http.listen=127.0.0.1:9464 >"$T/pcok.yml" 2>"$T/pcok.err" ||
    check_failed "--print-config refused valid sinks: $(cat "$T/pcok.err")"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3000 ] || check_failed "--print-config with sinks at closed ports took $ms ms (it must contact nothing)"
[ -z "$(ls -A "$T/pcok")" ] || check_failed "--print-config of valid sinks created: $(ls -A "$T/pcok")"
note "--print-config: 11 bad sink URLs, 3 bad Kafka inputs and http.listen values refused as a run refuses them; valid sinks of every kind pass in $ms ms, creating nothing"
expect_row "$T/five" category_revenue '{"window_start":"2026-11-27T10:00:00.000Z","category":"electronics","window_end":"2026-11-27T10:05:00.000Z","revenue":"364.99","orders":4,"units":6,"views":4,"cart_adds":1,"buyers":3,"final":true}' \
    window_start=2026-11-27T10:00:00.000Z category=electronics

# One file, one place: run compares inputs and sinks by identity, not by spelling ("./x", a
# symbolic or a hard link name one file). A refused run exits 2 before any sink opens
# anything: the input keeps its bytes and nothing under $S is created or changed.
S=$T/same
mkdir -p "$S" && cd "$S" || fail "no $S"
cp "$D/clicks.jsonl" c.jsonl && cp c.jsonl c2.jsonl && ln -s c.jsonl sym.jsonl && ln c.jsonl hard.jsonl ||
    fail "cannot set up $S"
same_state() { find . -printf '%p %s %T@\n' | sort; }
# refused PATTERN WHAT INPUT RUN-ARGS...
refused() {
    local pat=$1 what=$2 input=$3 before; shift 3
    cp "$input" "$T/refused.orig" && before=$(same_state)
    expect_exit 2 "$pat" "$what" -- run "$@"
    cmp -s "$input" "$T/refused.orig" || check_failed "$what: the input $input changed"
    [ "$(same_state)" = "$before" ] || check_failed "$what: files were written: $(diff <(echo "$before") <(same_state))"
}
refused "input clicks=./c.jsonl is given twice, also as clicks=c.jsonl" "one input twice as ./c.jsonl" c.jsonl \
    --input clicks=c.jsonl --input clicks=./c.jsonl --sink jsonl:out
refused "input clicks=sym.jsonl is given twice, also as clicks=c.jsonl" "one input twice through a symlink" c.jsonl \
    --input clicks=c.jsonl --input clicks=sym.jsonl --sink jsonl:out
refused "input clicks=hard.jsonl is given twice, also as clicks=c.jsonl" "one input twice through a hard link" c.jsonl \
    --input clicks=c.jsonl --input clicks=hard.jsonl --sink jsonl:out
refused "sink jsonl:./o1 is given twice, also as jsonl:o1" "one jsonl directory twice as ./o1" c.jsonl \
    --input clicks=c.jsonl --sink jsonl:o1 --sink jsonl:./o1
mkdir real && ln -s real linked || fail "cannot set up $S/linked"
refused "sink jsonl:linked/?mode=append is given twice, also as jsonl:real" "one jsonl directory twice through a symlink" \
    c.jsonl --input clicks=c.jsonl --sink jsonl:real --sink "jsonl:linked/?mode=append"
refused "sink sqlite:$S/a.db is given twice, also as sqlite:a.db" "one SQLite file twice" c.jsonl \
    --input clicks=c.jsonl --sink sqlite:a.db --sink "sqlite:$S/a.db"
refused "sink parquet:lake/ is given twice, also as parquet:x/../lake" "one lake twice" c.jsonl \
    --input clicks=c.jsonl --sink parquet:x/../lake --sink parquet:lake/
# an input that a sink truncates or removes when it opens: re-running the dead letters into
# their own directory (also through a symlink, or a hard link under the sink's directory),
# SQLite's files beside the database (the default sink's too) and a lake's temp files
mkdir o o3 s data && cp c.jsonl o/dlq.jsonl && ln -s o/dlq.jsonl dead.jsonl && ln c.jsonl o3/late.jsonl &&
    cp c.jsonl s/x.db-wal && cp c.jsonl data/shopstream.db-journal && mkdir -p lake2/.tmp/old &&
    cp c.jsonl lake2/.tmp/old/c.jsonl && touch -d '2 days ago' lake2/.tmp/old || fail "cannot set up the sink files"
refused "input clicks=o/dlq.jsonl is o/dlq.jsonl, a table file of sink jsonl:o," "dead letters into their directory" \
    o/dlq.jsonl --input clicks=o/dlq.jsonl --sink jsonl:o
refused "input clicks=dead.jsonl is ./o/dlq.jsonl, a table file of sink jsonl:./o/," "dead letters through a symlink" \
    o/dlq.jsonl --input clicks=dead.jsonl --sink jsonl:./o/
refused "input clicks=c.jsonl is o3/late.jsonl, a table file of sink jsonl:o3?mode=append," "an input hard-linked into a sink" \
    c.jsonl --input clicks=c.jsonl --sink "jsonl:o3?mode=append"
refused "input clicks=s/x.db-wal is s/x.db-wal, the write-ahead log of sink sqlite:s/x.db," "an input as SQLite's -wal" \
    s/x.db-wal --input clicks=s/x.db-wal --sink sqlite:s/x.db
refused "the rollback journal of sink sqlite:data/shopstream.db," "an input as the default sink's -journal" \
    data/shopstream.db-journal --input clicks=data/shopstream.db-journal
refused "input clicks=lake2/.tmp/old/c.jsonl is lake2/.tmp/old/c.jsonl, a temp file of sink parquet:lake2," \
    "an input among a lake's temp files" lake2/.tmp/old/c.jsonl --input clicks=lake2/.tmp/old/c.jsonl --sink parquet:lake2
# still run: two files with the same bytes, an input that is no table file in the jsonl
# sink's directory, stdin
ok_run() {
    local what=$1; shift
    "$SHOPSTREAM_BIN" run "$@" >"$T/ok.out" 2>"$T/ok.err" || fail "$what: exit $?: $(tail -n 2 "$T/ok.err")"
    grep -q 'msg="done" records=[1-9]' "$T/ok.err" || check_failed "$what: read nothing: $(tail -n 1 "$T/ok.err")"
    note "$what: $(grep -o 'records=[0-9]* valid=[0-9]*' "$T/ok.err")"
}
ok_run "two files with the same bytes" --input clicks=c.jsonl --input clicks=c2.jsonl --sink jsonl:ok1
mkdir ok2 && cp c.jsonl ok2/in.jsonl || fail "cannot set up $S/ok2"
ok_run "an input in the jsonl sink's directory" --input clicks=ok2/in.jsonl --sink jsonl:ok2
cmp -s ok2/in.jsonl c.jsonl && [ -s ok2/dlq.jsonl ] || check_failed "jsonl:ok2 changed ok2/in.jsonl or wrote no dlq rows"
ok_run "stdin" --input clicks=- --sink jsonl:ok3 <c.jsonl
cmp -s ok2/sessions.jsonl ok3/sessions.jsonl || check_failed "stdin: sessions differ from the same file's"
finish
