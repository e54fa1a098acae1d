# CPU per message of a SpamAssassin scan, six ways, in one process (run inside hearth/mail-spam by
# spam-container/benchmarks/sandbox-scan): in the preloaded process itself (the warm baseline), in a
# forked child, in a forked child inside a Hearth sandbox, the fork and the sandbox alone, and two
# sandboxed children scanning at once.
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

my %ways = (
    'in the preloaded process'      => sub { scan() },
    'forked child'                  => sub { child(sub { scan() }) },
    'forked child in a sandbox'     => sub { child(sub { Hearth::Sandbox::enter(); scan() }) },
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
for my $way ('in the preloaded process', 'forked child', 'forked child in a sandbox', 'fork alone', 'fork + sandbox alone',
             'two sandboxed children at once') {
    my $per_call = $way =~ /^two / ? 2 : 1;
    my @per = sort { $a <=> $b } map {
        my $before = cpu_seconds();
        $ways{$way}->() for 1 .. $messages / $per_call;
        1000 * (cpu_seconds() - $before) / $messages
    } 1 .. $rounds;
    printf "%-28s median %4.0f ms CPU per message (min %.0f, max %.0f; %d rounds of %d)\n", $way,
        $per[$#per / 2], $per[0], $per[-1], $rounds, $messages;
}
