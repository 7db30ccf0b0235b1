# Sourced by bench scripts: bench_manifest FILE N BATCH SUBJECT writes a manifest of N sora-2
# jobs of 4 s (small), ids clip-00001..., prompts "BATCH clip I: SUBJECT".
bench_manifest() {
  awk -v n="$2" -v batch="$3" -v subject="$4" 'BEGIN {
    print "batch: " batch
    print "defaults:"
    print "  model: sora-2"
    print "  seconds: 4"
    print "  size: small"
    print "jobs:"
    for (i = 1; i <= n; i++) {
      printf "  - id: clip-%05d\n    prompt: \"%s clip %d: %s\"\n", i, batch, i, subject
    }
  }' >"$1"
}
