package Hearth::Sandbox;
# Puts the calling process into a sandbox of its own: new user, mount, pid, ipc, uts and network
# namespaces, a fresh private /tmp, /proc hidden, no capabilities, no_new_privs, not dumpable.
# Called in a freshly forked child of a sandbox host; returns in the sandbox's first process (pid 1
# of its own pid namespace). What an exploited child can and cannot see: docs/sandbox.md.
use strict;
use warnings;
use Config;
use POSIX ();

# Syscall numbers: Debian's perl-base has no syscall.ph, and the appliance is arm64.
my %SYSCALLS = (
    'x86_64'  => { unshare => 272, mount => 165, prctl => 157, capset => 126, sethostname => 170,
                   umount2 => 166, setns => 308, clone => 56, clone3 => 435, audit_arch => 0xC000003E },
    'aarch64' => { unshare => 97,  mount => 40,  prctl => 167, capset => 91,  sethostname => 161,
                   umount2 => 39,  setns => 268, clone => 220, clone3 => 435, audit_arch => 0xC00000B7 },
);
my ($ARCH) = $Config{archname} =~ /^(x86_64|aarch64)/
    or die "sandbox: unsupported architecture $Config{archname}\n";

use constant {
    CLONE_NEWNS => 0x00020000, CLONE_NEWUTS => 0x04000000, CLONE_NEWIPC => 0x08000000,
    CLONE_NEWUSER => 0x10000000, CLONE_NEWPID => 0x20000000, CLONE_NEWNET => 0x40000000,
    MS_RDONLY => 1, MS_NOSUID => 2, MS_NODEV => 4, MS_NOEXEC => 8, MS_REMOUNT => 32, MS_BIND => 4096,
    MS_REC => 0x4000, MS_PRIVATE => 0x40000,
    PR_SET_PDEATHSIG => 1, PR_SET_DUMPABLE => 4, PR_SET_SECCOMP => 22, SECCOMP_MODE_FILTER => 2, PR_SET_SECUREBITS => 28, PR_SET_NO_NEW_PRIVS => 38,
    # SECBIT_NOROOT, its lock, SECBIT_NO_CAP_AMBIENT_RAISE and its lock: an exec never grants capabilities.
    SECUREBITS_LOCKED_NOROOT => 0x01 | 0x02 | 0x40 | 0x80,
    LINUX_CAPABILITY_VERSION_3 => 0x20080522,
};

sub number { $SYSCALLS{$ARCH}{$_[0]} }

# Whether the host's sandboxes are scarce (three quarters busy): a server shortens its waits then.
my $scarce = 0;
sub scarce { $scarce }

sub call {
    my ($name, @args) = @_;
    # syscall() passes strings as pointers; it needs writable scalars, hence the copies.
    my @copies = map { my $c = $_; $c } @args;
    my $r = syscall($SYSCALLS{$ARCH}{$name}, @copies);
    die "sandbox: $name failed: $!\n" if $r < 0;
    return $r;
}

sub spew {
    my ($file, $text) = @_;
    open(my $fh, '>', $file) or die "sandbox: $file: $!\n";
    print {$fh} $text or die "sandbox: $file: $!\n";
    close($fh) or die "sandbox: $file: $!\n";
}

# Enters the sandbox. Options: tmp_size (the private /tmp's size, default "16m"), scarce (whether
# sandboxes are scarce as it starts), binds ([source, target, 'ro' or 'rw'] each: a directory the
# sandbox keeps, at target, e.g. one user's part of a volume) and hide (directories covered by an
# empty read-only tmpfs after the binds, e.g. the rest of that volume).
# The process that calls this becomes a waiter: it returns only in the sandbox's pid 1 and exits
# with that process's status, so the host reaps one child per sandbox.
sub enter {
    my (%opt) = @_;
    my ($uid, $gid) = ($<, $( + 0);
    call('unshare', CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET);
    # Inside, the same uid and gid as outside: the namespace gives no identity of the host's.
    spew('/proc/self/setgroups', 'deny');
    spew('/proc/self/uid_map', "$uid $uid 1\n");
    spew('/proc/self/gid_map', "$gid $gid 1\n");
    # Mounts made here stay here; then a /tmp no other sandbox ever saw, and /proc (which still
    # shows the host's processes of this container) covered by an empty read-only tmpfs.
    call('mount', 'none', '/', 0, MS_REC | MS_PRIVATE, 0);
    call('mount', 'tmpfs', '/tmp', 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC,
         'size=' . ($opt{tmp_size} // '16m') . ",mode=0700,uid=$uid,gid=$gid");
    call('mount', 'tmpfs', '/proc', 'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 'size=4k,mode=0555');
    for my $bind (@{ $opt{binds} // [] }) {
        my ($source, $target, $mode) = @$bind;
        call('mount', $source, $target, 0, MS_BIND, 0);
        call('mount', 'none', $target, 0,
             MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC | ($mode eq 'rw' ? 0 : MS_RDONLY), 0);
    }
    call('mount', 'tmpfs', $_, 'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 'size=4k,mode=0555')
        for @{ $opt{hide} // [] };
    call('sethostname', 'sandbox', 7);
    # A new pid namespace takes effect for the next child: that child is the sandbox's pid 1.
    # The host's pressure signals go to the waiter, which passes them on. They are blocked from the
    # host's fork until each side has its handler, so none is lost.
    $scarce = $opt{scarce} ? 1 : 0;
    my $pressure_signals = POSIX::SigSet->new(POSIX::SIGUSR1(), POSIX::SIGUSR2());
    POSIX::sigprocmask(POSIX::SIG_BLOCK(), $pressure_signals);
    my $pid = fork() // die "sandbox: fork failed: $!\n";
    if ($pid) {
        $SIG{$_} = do { my $signal = $_; sub { kill($signal, $pid) } } for qw(USR1 USR2);
        POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $pressure_signals);
        waitpid($pid, 0);
        POSIX::_exit(($? & 127) ? 128 + ($? & 127) : $? >> 8);
    }
    $SIG{USR1} = sub { $scarce = 1 };
    $SIG{USR2} = sub { $scarce = 0 };
    POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $pressure_signals);
    # If the waiter is killed (the host's deadline), the sandbox goes with it.
    call('prctl', PR_SET_PDEATHSIG, 9, 0, 0, 0);
    call('prctl', PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    call('prctl', PR_SET_SECUREBITS, SECUREBITS_LOCKED_NOROOT, 0, 0, 0);
    call('capset', pack('LL', LINUX_CAPABILITY_VERSION_3, 0), pack('L6', (0) x 6));
    # Not dumpable: no ptrace, no core file, /proc entries owned by the host's root.
    call('prctl', PR_SET_DUMPABLE, 0, 0, 0, 0);
    no_more_namespaces();
    # pid 1 ignores signals it has no handler for; these must still end the sandbox.
    $SIG{$_} = sub { POSIX::_exit(128 + 15) } for qw(TERM INT HUP ALRM);
    # The forked child shares the host's random state: re-seed so no two sandboxes repeat it.
    srand();
    return 1;
}

# A filter for the sandbox and everything it starts: no new namespaces (a nested user namespace
# would hand out capabilities again), no mounts, no entering other namespaces. Syscalls of another
# ABI (32-bit, x32) end the process, so none of these can be reached by another number.
sub no_more_namespaces {
    my $namespace_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
        | 0x02000000 | 0x00000080;    # CLONE_NEWCGROUP, CLONE_NEWTIME
    my ($ld, $jeq, $jge, $jset, $ret) = (0x20, 0x15, 0x35, 0x45, 0x06);
    my ($allow, $eperm, $enosys, $kill) = (0x7fff0000, 0x00050000 | 1, 0x00050000 | 38, 0x80000000);
    # [code, jump-if-true label, jump-if-false label, k]; labels resolve to relative offsets.
    my @program = (
        [$ld, 0, 0, 4],                                   # the syscall's architecture
        [$jeq, 'nr', 'kill', number('audit_arch')],
        ['nr:', $ld, 0, 0, 0],                            # its number
        [$jge, 'kill', 0, 0x40000000],                    # x32
        [$jeq, 'deny', 0, number('unshare')],
        [$jeq, 'deny', 0, number('mount')],
        [$jeq, 'deny', 0, number('umount2')],
        [$jeq, 'deny', 0, number('setns')],
        [$jeq, 'nosys', 0, number('clone3')],             # its flags are out of reach: glibc falls back to clone
        [$jeq, 0, 'allow', number('clone')],
        [$ld, 0, 0, 16],                                  # clone's flags (low half of its first argument)
        [$jset, 'deny', 'allow', $namespace_flags],
        ['allow:', $ret, 0, 0, $allow],
        ['deny:', $ret, 0, 0, $eperm],
        ['nosys:', $ret, 0, 0, $enosys],
        ['kill:', $ret, 0, 0, $kill],
    );
    my %at;
    for my $i (0 .. $#program) {
        if ($program[$i][0] =~ /^(\w+):$/) {
            $at{$1} = $i;
            shift @{ $program[$i] };
        }
    }
    my $filter = '';
    for my $i (0 .. $#program) {
        my ($code, $jt, $jf, $k) = @{ $program[$i] };
        my @jumps = map { $_ eq '0' ? 0 : $at{$_} - $i - 1 } ($jt, $jf);
        $filter .= pack('SCCL', $code, @jumps, $k);
    }
    my $fprog = pack('S x![P] P', scalar(@program), $filter);
    call('prctl', PR_SET_SECCOMP, SECCOMP_MODE_FILTER, $fprog, 0, 0);
}

1;
