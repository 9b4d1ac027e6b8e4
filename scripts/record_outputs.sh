#!/usr/bin/env bash
# Record the output (stdout, stderr, exit status) of README/docs commands in every format and language,
# one file per run in DIR: run it before and after a change that must not change what users see,
# then `diff -r BEFORE AFTER` (the restructure of issue 9 was checked this way: 561 runs identical).
# Usage: scripts/record_outputs.sh DIR
out=$(realpath -m "$1"); mkdir -p "$out"; cd "$(mktemp -d)"
i=0
run() { i=$((i+1)); n=$(printf %03d $i); { echo "\$ symconv $*"; symconv "$@" > "$out/$n.out" 2> "$out/$n.err"; echo "rc=$?"; } > "$out/$n.cmd"; }
for lang in en zh; do
 for fmt in text markdown latex json; do
  run compare --input 7x7x3 --output 5x5x64 --format $fmt --lang $lang
  run compare --input 7x7x3 --out-channels 64 --kernel 3 --stride 2 --padding 1 --dilation 1 --bias --format $fmt --lang $lang
  run verify --input 7x7x3 --output 5x5x64 --format $fmt --lang $lang
  for kind in standard grouped depthwise pointwise separable transposed; do run derive $kind --format $fmt --lang $lang; done
  run derive separable --bias --dims 3 --format $fmt --lang $lang
  run derive standard --dims 1 --format $fmt --lang $lang
  for net in mobilenet_v1 mobilenet_v2; do
   run net $net --format $fmt --lang $lang
   run net $net --alpha 0.75 --resolution 192 --per-layer --format $fmt --lang $lang
   run net $net --convention flops --format $fmt --lang $lang
  done
  run net mobilenet_v1 --verify --alpha 0.25 --resolution 32 --format $fmt --lang $lang
 done
 for fmt in text markdown json; do
  for c in ptflops thop fvcore torch torchinfo; do run net mobilenet_v2 --alpha 1 --resolution 224 --convention $c --format $fmt --lang $lang; done
  run net mobilenet_v1 --compare-conventions --format $fmt --lang $lang
 done
 run compare --input 7x7x3 --output 5x5x64 --format latex --standalone --lang $lang
 run net mobilenet_v1 --format latex --standalone --lang $lang
done
run compare --input 7x7x3 --output 3x3x64 --stride 2
run compare --input 7,7,3 --output 5x5x64
run derive standard --dims 3
