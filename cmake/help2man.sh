#!/bin/sh
# Writes the man pages of the mrirecon program from its --help texts (run at build time):
#   help2man.sh BINARY OUTDIR VERSION
# OUTDIR/mrirecon.1 from `mrirecon --help` (NAME from its second line, the command table) and
# OUTDIR/mrirecon-COMMAND.1 from `mrirecon COMMAND --help` for every command of that table
# (NAME from the table's summary). The usage lines become the SYNOPSIS; the rest of the text is
# kept as laid out (no-fill), so the pages say exactly what --help says.
set -eu
bin=$1
out=$2
version=$3
mkdir -p "$out"

# roff-safe text on stdin: backslashes, hyphens, and lines starting with '.' or "'"
escape() {
    sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

# page NAME TITLE SUMMARY HELPFILE SEEALSO
page() {
    name=$1
    title=$2
    summary=$3
    help=$4
    seealso=$5
    {
        printf '.TH %s 1 "" "mrirecon %s" "User Commands"\n.nh\n.ad l\n' "$title" "$version"
        printf '.SH NAME\n%s \\- %s\n' "$name" "$(printf '%s' "$summary" | escape)"
        printf '.SH SYNOPSIS\n.nf\n'
        # the usage line and its indented continuation lines, without "usage: "
        awk 'NR == 1 { sub(/^usage: */, ""); print; next }
             /^ / { print; next }
             { exit }' "$help" | escape
        printf '.fi\n.SH DESCRIPTION\n.nf\n'
        awk 'NR == 1 { next }
             /^ / && !body { next }
             { body = 1; print }' "$help" | escape
        printf '.fi\n.SH SEE ALSO\n%s\n' "$seealso"
    } >"$out/$name.1.tmp"
    mv "$out/$name.1.tmp" "$out/$name.1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --help >"$tmp/top"
# "  name   summary" rows between "commands:" and the next blank line
awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print }' "$tmp/top" >"$tmp/commands"
[ -s "$tmp/commands" ] || { echo "help2man.sh: no commands in '$bin --help'" >&2; exit 1; }

seealso=""
while read -r cmd summary; do
    seealso="$seealso${seealso:+,
}.BR mrirecon\\-$cmd (1)"
done <"$tmp/commands"
page mrirecon MRIRECON "$(sed -n 2p "$tmp/top" | sed 's/\.$//')" "$tmp/top" "$seealso"

while read -r cmd summary; do
    "$bin" "$cmd" --help >"$tmp/$cmd"
    upper=$(printf 'MRIRECON-%s' "$cmd" | tr '[:lower:]' '[:upper:]')
    page "mrirecon-$cmd" "$upper" "$summary" "$tmp/$cmd" ".BR mrirecon (1)"
done <"$tmp/commands"
