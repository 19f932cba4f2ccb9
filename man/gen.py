#!/usr/bin/env python3
# gen.py - build a man page: fill in an scdoc template from the built programs, run scdoc
#
# The parts of the pages that would drift are generated at build time:
# Placeholders, each alone on a line of the template:
#   @KEYS@      every config section and key (man/dump_keys: the key tables)
#   @COMMANDS@  every subcommand of `tapir help`, with the usage and help text
#               `tapir CMD --help` prints, followed by the template's own
#               "@detail CMD" block for it (hand-written prose); a block for a
#               command tapir does not have is an error (a stale page)
#   @VERSION@   the project version (anywhere)
#
# Usage: gen.py --template T --output O --scdoc SCDOC [--version V]
#               [--keys DUMP_KEYS] [--tapir TAPIR]
import argparse
import re
import subprocess
import sys


def esc(s):
    """scdoc text: \\, * and _ are markup."""
    return re.sub(r'([\\*_])', r'\\\1', s)


def run(argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


def tapir_commands(tapir):
    """[(name, one-line help)] from `tapir help`: the lines '  NAME  HELP'."""
    cmds = []
    for line in run([tapir, 'help']).splitlines():
        m = re.match(r'^  ([a-z][a-z0-9-]*)\s+(\S.*)$', line)
        if m:
            cmds.append((m.group(1), m.group(2)))
    if not cmds:
        sys.exit('gen.py: `tapir help` listed no commands')
    return cmds


def help_text(text):
    """scdoc for a --help body: prose paragraphs filled, column layouts kept."""
    out = []
    for para in re.split(r'\n\s*\n', text.strip('\n')):
        lines = para.split('\n')
        columns = any(re.match(r'^\s', ln) or re.search(r'\S {3,}\S', ln) for ln in lines)
        if columns:
            # A literal block, indented as the paragraphs around it
            out.append('```\n' + '\n'.join(ln.rstrip() for ln in lines) + '\n```')
        else:
            text = esc(' '.join(ln.strip() for ln in lines))
            if re.match(r'^(#|- |\+ |\d+\. )', text):
                text = '\\' + text  # not a heading or a list item
            out.append(text)
    return '\n\n'.join(out)


def commands_section(tapir, details):
    out = []
    names = []
    for name, oneline in tapir_commands(tapir):
        names.append(name)
        out.append('## tapir %s\n' % esc(name))
        usage, body = None, None
        if name != 'help':
            try:
                p = subprocess.run([tapir, name, '--help'], capture_output=True, text=True,
                                   timeout=30)
                m = re.match(r'^usage: (.*?)\n\n(.*)$', p.stdout, re.S)
                if p.returncode == 0 and m:
                    usage, body = m.group(1), m.group(2)
            except subprocess.TimeoutExpired:
                pass
            if not usage:
                # The page gets the table's line; tests/docs/man.sh fails on it
                print('gen.py: warning: `tapir %s --help` printed no usage' % name,
                      file=sys.stderr)
        if usage:
            # "tapir NAME" in bold, the rest as it is
            words = usage.split(' ', 2)
            rest = words[2] if len(words) > 2 else ''
            out.append('*%s %s* %s\n' % (esc(words[0]), esc(words[1]), esc(rest)))
            out.append(help_text(body) + '\n')
        else:
            out.append('*tapir %s*\n' % esc(name))
            out.append(esc(oneline[0].upper() + oneline[1:]) + '.\n')
        if name in details:
            out.append(details[name].strip('\n') + '\n')
        else:
            print('gen.py: note: man/tapir.1.scd has no @detail block for %s' % name,
                  file=sys.stderr)
    stale = sorted(set(details) - set(names))
    if stale:
        sys.exit('gen.py: @detail blocks for commands tapir does not have: ' + ', '.join(stale))
    return '\n'.join(out)


def split_details(template):
    """Take the '@detail NAME' ... '@end' blocks out of the template."""
    details = {}
    kept = []
    cur = None
    for line in template.split('\n'):
        m = re.match(r'^@detail (\S+)\s*$', line)
        if m:
            cur = m.group(1)
            if cur in details:
                sys.exit('gen.py: two @detail blocks for ' + cur)
            details[cur] = ''
        elif line.strip() == '@end':
            cur = None
        elif cur:
            details[cur] += line + '\n'
        else:
            kept.append(line)
    return '\n'.join(kept), details


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--template', required=True)
    ap.add_argument('--output', required=True)
    ap.add_argument('--scdoc', required=True)
    ap.add_argument('--version', default='')
    ap.add_argument('--keys')
    ap.add_argument('--tapir')
    a = ap.parse_args()

    with open(a.template, encoding='utf-8') as f:
        text = f.read()
    text, details = split_details(text)
    text = text.replace('@VERSION@', a.version)
    # The placeholders stand alone on their line
    lines = text.split('\n')
    if '@KEYS@' in lines:
        if not a.keys:
            sys.exit('gen.py: @KEYS@ needs --keys')
        lines[lines.index('@KEYS@')] = run([a.keys]).rstrip('\n')
    if '@COMMANDS@' in lines:
        if not a.tapir:
            sys.exit('gen.py: @COMMANDS@ needs --tapir')
        lines[lines.index('@COMMANDS@')] = commands_section(a.tapir, details)
    elif details:
        sys.exit('gen.py: @detail blocks without @COMMANDS@')
    text = '\n'.join(lines)

    p = subprocess.run([a.scdoc], input=text, capture_output=True, text=True)
    if p.returncode != 0:
        # scdoc names the line of its input: keep that input to read
        with open(a.output + '.scd', 'w', encoding='utf-8') as f:
            f.write(text)
        sys.exit('gen.py: scdoc failed on %s (input kept in %s.scd): %s'
                 % (a.template, a.output, p.stderr.strip()))
    with open(a.output, 'w', encoding='utf-8') as f:
        f.write(p.stdout)


if __name__ == '__main__':
    main()
