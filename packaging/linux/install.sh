#!/bin/sh
# Install Agentry for the current user (no root): run it from the unpacked tarball.
#
#   ./install.sh                       install into ~/.local
#   ./install.sh --prefix DIR          install into DIR (bin/, lib/agentry/, share/)
#   ./install.sh --uninstall           remove the program; tasks, logs and settings stay
#   ./install.sh --uninstall --remove-data    ... and remove those too
#
# What goes where (PREFIX is ~/.local unless --prefix says otherwise):
#   PREFIX/lib/agentry/VERSION/          the program (one folder per version, see below)
#   PREFIX/bin/agentry                   a link to it: the command and the menu entry use it
#   DATA/applications/agentry.desktop    the menu entry (DATA: $XDG_DATA_HOME or ~/.local/share,
#   DATA/icons/hicolor/*/apps/agentry.*  its icons          or PREFIX/share with --prefix)
# Tasks, logs and settings are in ~/.local/share/Agentry, ~/.config/Agentry and
# ~/.local/state/Agentry (or $AGENTRY_HOME): an upgrade never touches them.
#
# One folder per version: agents keep running through an upgrade, each under a runner
# started from the installed program, and a runner reads its program file for as long as
# it runs. Writing a new version over those files would break running agents, so a new
# version goes beside the old one and an old folder is removed once nothing runs from it
# (now, or by the next install).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bundle="$here/agentry"
prefix="$HOME/.local"
prefix_given=0
action=install
remove_data=0

usage() {
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { usage >&2; exit 2; }; prefix=$2; prefix_given=1; shift ;;
        --prefix=*) prefix=${1#--prefix=}; prefix_given=1 ;;
        --uninstall) action=uninstall ;;
        --remove-data) remove_data=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

case "$prefix" in
    /*) ;;
    *) prefix="$(pwd)/$prefix" ;;
esac
case "$prefix" in
    *[\"\`\$\\%\|\&]*)
        echo "install.sh: a menu entry cannot hold the path $prefix (it has one of \" \` \$ \\ % | &);" >&2
        echo "  choose another --prefix" >&2
        exit 2 ;;
esac
if [ "$prefix_given" = 0 ] && [ -n "${XDG_DATA_HOME:-}" ]; then
    datadir=$XDG_DATA_HOME
else
    datadir="$prefix/share"
fi
bindir="$prefix/bin"
libdir="$prefix/lib/agentry"
appsdir="$datadir/applications"
icondir="$datadir/icons/hicolor"
icon_sizes="16 24 32 48 64 128 256 512"

say() { printf '%s\n' "$*"; }

# Processes of this user running a program from folder $1 (their count on stdout).
users_of() {
    n=0
    for exe in /proc/[0-9]*/exe; do
        target=$(readlink "$exe" 2>/dev/null) || continue
        case "$target" in
            "$1"/*) n=$((n + 1)) ;;
        esac
    done
    echo "$n"
}

# Remove every version folder but $1 that nothing runs from; report the others.
remove_old_versions() {
    keep=$1
    [ -d "$libdir" ] || return 0
    for dir in "$libdir"/*; do
        [ -d "$dir" ] || continue
        [ "$dir" = "$keep" ] && continue
        [ -x "$dir/agentry" ] || continue  # only folders that hold an Agentry
        busy=$(users_of "$dir")
        if [ "$busy" = 0 ]; then
            rm -rf "$dir"
        else
            say "Kept $dir: $busy process(es) still run from it (the app, or runners of agents"
            say "  that keep working). Quit Agentry and start it again to use the new version;"
            say "  the next install removes the old folder once its agents have finished."
        fi
    done
}

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$appsdir" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$icondir/index.theme" ]; then
        gtk-update-icon-cache -q -t "$icondir" 2>/dev/null || true
    fi
}

# The Exec= value of the menu entry: quoted if it has spaces (prefix is checked below).
desktop_exec() {
    case "$1" in
        *" "*) printf '"%s"' "$1" ;;
        *) printf '%s' "$1" ;;
    esac
}

install_agentry() {
    [ -x "$bundle/agentry" ] || { echo "install.sh: $bundle/agentry not found" >&2; exit 1; }
    # Running it checks that this system can run the bundle (glibc, CPU) before anything moves.
    if ! version_line=$("$bundle/agentry" --version 2>&1); then
        echo "install.sh: this system cannot run Agentry: $version_line" >&2
        exit 1
    fi
    version=${version_line#agentry }
    dest="$libdir/$version"

    mkdir -p "$libdir" "$bindir" "$appsdir"
    if [ -d "$dest" ] && [ "$(users_of "$dest")" != 0 ]; then
        say "Agentry $version is installed and in use; keeping its files as they are."
    else
        tmp="$libdir/.incoming-$$"
        rm -rf "$tmp"
        mkdir "$tmp"
        cp -R -P -p "$bundle/." "$tmp/"
        rm -rf "$dest"
        mv "$tmp" "$dest"
    fi

    ln -sfn "$dest/agentry" "$bindir/agentry"

    icons="$dest/_internal/resources/icons"
    for size in $icon_sizes; do
        mkdir -p "$icondir/${size}x${size}/apps"
        cp "$icons/agentry-$size.png" "$icondir/${size}x${size}/apps/agentry.png"
    done
    mkdir -p "$icondir/scalable/apps"
    cp "$icons/agentry.svg" "$icondir/scalable/apps/agentry.svg"

    exec_line=$(desktop_exec "$bindir/agentry")
    sed -e "s|@EXEC@|$exec_line|" -e "s|@TRYEXEC@|$bindir/agentry|" \
        "$here/agentry.desktop" > "$appsdir/agentry.desktop.tmp"
    chmod 644 "$appsdir/agentry.desktop.tmp"
    mv "$appsdir/agentry.desktop.tmp" "$appsdir/agentry.desktop"

    remove_old_versions "$dest"
    refresh_caches

    say "Installed Agentry $version in $dest"
    say "  command:    $bindir/agentry"
    say "  menu entry: $appsdir/agentry.desktop"
    case ":${PATH:-}:" in
        *":$bindir:"*) ;;
        *) say "  $bindir is not on your PATH: add it to use the agentry command." ;;
    esac
}

uninstall_agentry() {
    link="$bindir/agentry"
    if [ -L "$link" ]; then
        case "$(readlink "$link")" in
            "$libdir"/*) rm -f "$link" ;;
        esac
    fi
    rm -f "$appsdir/agentry.desktop"
    for size in $icon_sizes; do
        rm -f "$icondir/${size}x${size}/apps/agentry.png"
    done
    rm -f "$icondir/scalable/apps/agentry.svg"
    remove_old_versions ""
    rmdir "$libdir" 2>/dev/null || true
    refresh_caches
    say "Removed Agentry from $prefix."

    data="${XDG_DATA_HOME:-$HOME/.local/share}/Agentry"
    config="${XDG_CONFIG_HOME:-$HOME/.config}/Agentry"
    state="${XDG_STATE_HOME:-$HOME/.local/state}/Agentry"
    if [ "$remove_data" = 1 ]; then
        rm -rf "$data" "$config" "$state"
        say "Removed your tasks, logs and settings ($data, $config, $state)."
    else
        say "Your tasks, logs and settings are kept in $data, $config and $state."
    fi
    if [ -n "${AGENTRY_HOME:-}" ]; then
        say "AGENTRY_HOME ($AGENTRY_HOME) is yours: it is never removed."
    fi
}

case "$action" in
    install) install_agentry ;;
    uninstall) uninstall_agentry ;;
esac
