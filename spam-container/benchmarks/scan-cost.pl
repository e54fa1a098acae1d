# CPU per message of a SpamAssassin scan, seven ways, in one process (run inside hearth/mail-spam by
# spam-container/benchmarks/sandbox-scan): in the preloaded process itself (the warm baseline), in a
# forked child, in a forked child inside a Hearth sandbox, the fork and the sandbox alone, two
# sandboxed children scanning at once, and a forked child that first copies, in one madvise call
# per range, the parent's pages a scan writes (found once by a probe child: a tried alternative to
# taking them one copy-on-write fault at a time).
# CPU is the process's own plus its reaped children's (POSIX times), per message, median of ROUNDS.
use strict;
use warnings;
use lib '/usr/local/lib/hearth';
use Hearth::Sandbox;
use Mail::SpamAssassin;
use POSIX ();

my ($messages, $rounds) = (@ARGV, 10, 5)[0, 1];
my $sa = Mail::SpamAssassin->new({ dont_copy_prefs => 1, local_tests_only => 1, userprefs_filename => undef,
                                   home_dir_for_helpers => '/tmp', userstate_dir => '/tmp' });
$sa->compile_now(0, 1);
my $message = "From: bob\@example.org\r\nTo: alice\@demo.hearth.test\r\nSubject: hello\r\n"
    . "Date: Tue, 1 Dec 2026 03:00:00 +0000\r\nMessage-ID: <bench\@example.org>\r\n\r\n"
    . ("lorem ipsum dolor sit amet " x 150) . "\r\n";    # ~4 KB, like the load tests' messages
sub scan { my $m = $sa->parse($message); my $s = $sa->check($m); $s->finish; $m->finish; }
scan() for 1 .. 3;    # the parent is warm before anything is measured
sub cpu_seconds { my @t = POSIX::times(); ($t[1] + $t[2] + $t[3] + $t[4]) / POSIX::sysconf(POSIX::_SC_CLK_TCK()) }

# The pages a scan makes private (copied on write, or new), as [address, pages] ranges: a probe
# child scans once and reads its own page map (present and exclusively mapped: bits 63 and 56).
sub pages_a_scan_writes {
    pipe(my $read, my $write) or die "pipe: $!";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        close($read);
        scan();
        open my $maps, '<', '/proc/self/maps' or die "maps: $!";
        open my $pagemap, '<:raw', '/proc/self/pagemap' or die "pagemap: $!";
        while (<$maps>) {
            my ($from, $to, $name) = /^(\w+)-(\w+) rw.p \S+ \S+ \d+\s*(.*)$/ or next;
            next if $name =~ /^\[(?:stack|vvar|vdso)/;
            ($from, $to) = map { no warnings 'portable'; hex } $from, $to;
            sysseek($pagemap, $from / 4096 * 8, 0) or die "pagemap: $!";
            sysread($pagemap, my $entries, ($to - $from) / 4096 * 8) or next;
            my ($i, $start) = (0, undef);
            for my $entry (unpack('Q<*', $entries), 0) {
                my $written = ($entry >> 63) & 1 && ($entry >> 56) & 1;
                print {$write} $from + $start * 4096, " ", $i - $start, "\n" if !$written && defined $start;
                $start = $written ? $start // $i : undef;
                $i++;
            }
        }
        close($write);
        POSIX::_exit(0);
    }
    close($write);
    my @ranges = map { [split] } <$read>;
    waitpid($pid, 0);
    return @ranges;
}
my @written = pages_a_scan_writes();
my $madvise = { x86_64 => 28, aarch64 => 233 }->{ (POSIX::uname())[4] } or die "madvise: unknown architecture\n";
# A range the child no longer maps as the probe did (EINVAL, ENOMEM) is left to its faults.
sub copy_written_pages { syscall($madvise, $_->[0], $_->[1] * 4096, 23) for @written }

my %ways = (
    'in the preloaded process'      => sub { scan() },
    'forked child'                  => sub { child(sub { scan() }) },
    'forked child in a sandbox'     => sub { child(sub { Hearth::Sandbox::enter(); scan() }) },
    'forked child, pages copied first' => sub { child(sub { copy_written_pages(); scan() }) },
    'fork alone'                    => sub { child(sub { }) },
    'fork + sandbox alone'          => sub { child(sub { Hearth::Sandbox::enter() }) },
    # Two sandboxed scans at once, as the host runs them under load (the figure is per message).
    'two sandboxed children at once' => sub { children(2, sub { Hearth::Sandbox::enter(); scan() }) },
);
sub children {
    my ($n, $work) = @_;
    my @pids = map { my $pid = fork() // die "fork: $!"; if ($pid == 0) { $work->(); POSIX::_exit(0) } $pid } 1 .. $n;
    for (@pids) { waitpid($_, 0); die "child failed: $?\n" if $? }
}
sub child {
    my ($work) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) { $work->(); POSIX::_exit(0) }
    waitpid($pid, 0);
    die "child failed: $?\n" if $?;
}
my $pages = 0;
$pages += $_->[1] for @written;
printf "a scan writes %d pages (%.1f MiB) in %d ranges\n", $pages, $pages / 256, scalar @written;
for my $way ('in the preloaded process', 'forked child', 'forked child in a sandbox', 'forked child, pages copied first',
             'fork alone', 'fork + sandbox alone', 'two sandboxed children at once') {
    my $per_call = $way =~ /^two / ? 2 : 1;
    my @per = sort { $a <=> $b } map {
        my $before = cpu_seconds();
        $ways{$way}->() for 1 .. $messages / $per_call;
        1000 * (cpu_seconds() - $before) / $messages
    } 1 .. $rounds;
    printf "%-32s median %4.0f ms CPU per message (min %.0f, max %.0f; %d rounds of %d)\n", $way,
        $per[$#per / 2], $per[0], $per[-1], $rounds, $messages;
}
