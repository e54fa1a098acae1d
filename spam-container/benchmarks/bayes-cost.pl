# CPU per message of a scan with and without a trained Bayes database, and of learning one message,
# in one process (run inside hearth/mail-spam by spam-container/benchmarks/bayes-cost): the handler's
# own configuration (local.cf: per-user database at /var/lib/hearth/bayes), a database trained on 30
# spam and 30 ham generated messages. CPU is the process's own and its reaped children's (POSIX
# times), per message, median of ROUNDS: in the preloaded process, and as shipped, in a forked child
# inside a Hearth sandbox that has the user's directory bound in (read-only to scan, writable to learn).
use strict;
use warnings;
use lib '/usr/local/lib/hearth';
use Hearth::Sandbox;
use Mail::SpamAssassin;
use Mail::SpamAssassin::BayesStore::DBM;
use POSIX ();

# As scan-handler.pl: a scan never writes the database (no token touches journalled after a scan).
{ no warnings 'redefine'; *Mail::SpamAssassin::BayesStore::DBM::tok_touch_all = sub { 1 }; }

my ($messages, $rounds) = (@ARGV, 10, 5)[0, 1];
my $sa = Mail::SpamAssassin->new({ dont_copy_prefs => 1, local_tests_only => 1, userprefs_filename => undef,
                                   home_dir_for_helpers => '/tmp', userstate_dir => '/tmp' });
$sa->compile_now(0, 1);
my @everyday = qw(meeting tomorrow lunch project notes school weekend dinner photos birthday train family);
my @scheme = qw(crypto portfolio yield staking airdrop token presale whitelist moonshot leverage signals wallet);
my $n = 0;
sub message {
    my ($words) = @_;
    $n++;
    my $body = join(' ', map { $words->[int(rand(@$words))] } 1 .. 400);    # ~3-4 KB
    return "From: sam\@friends.example\r\nTo: alice\@demo.hearth.test\r\nSubject: note $n\r\n"
        . "Date: Tue, 1 Dec 2026 03:00:00 +0000\r\nMessage-ID: <bench-$n-$$\@friends.example>\r\n\r\n$body\r\n";
}
sub scan { my $m = $sa->parse($_[0]); my $s = $sa->check($m); my $hit = $s->get_names_of_tests_hit; $s->finish; $m->finish; $hit }
sub learn {
    my ($text, $spam) = @_;
    $sa->init_learner({ wait_for_lock => 1 });
    my $m = $sa->parse($text); my $s = $sa->learn($m, undef, $spam, 0); my $ok = $s->did_learn; $s->finish; $m->finish;
    $sa->finish_learner;
    return $ok;
}
sub cpu_seconds { my @t = POSIX::times(); ($t[1] + $t[2] + $t[3] + $t[4]) / POSIX::sysconf(POSIX::_SC_CLK_TCK()) }
my $DIR = '/var/lib/hearth/bayes';
sub sandboxed {
    my ($mode, $work) = @_;
    return sub {
        my ($text) = @_;
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) { Hearth::Sandbox::enter(binds => [[$DIR, $DIR, $mode]]); $work->($text); POSIX::_exit(0) }
        waitpid($pid, 0);
        die "child failed: $?\n" if $?;
    };
}
sub median_ms {
    my ($work) = @_;
    my @per = sort { $a <=> $b } map {
        my @inputs = map { message(\@scheme) } 1 .. $messages;
        my $before = cpu_seconds();
        $work->($_) for @inputs;
        1000 * (cpu_seconds() - $before) / $messages
    } 1 .. $rounds;
    return sprintf('median %4.0f ms CPU per message (min %.0f, max %.0f; %d rounds of %d)', $per[$#per / 2], $per[0], $per[-1],
                   $rounds, $messages);
}
scan(message(\@everyday)) for 1 .. 3;
printf "%-44s %s\n", 'scan, no Bayes database', median_ms(\&scan);
printf "%-44s %s\n", 'scan in a sandbox, no Bayes database', median_ms(sandboxed('ro', \&scan));
my $learned = 0;
$learned += learn(message(\@scheme), 1) for 1 .. 30;
$learned += learn(message(\@everyday), 0) for 1 .. 30;
die "learned only $learned of 60\n" unless $learned == 60;
my $hit = scan(message(\@scheme));
die "Bayes did not speak after training: $hit\n" unless $hit =~ /BAYES_/;
printf "%-44s %s\n", 'scan, trained database (read)', median_ms(\&scan);
printf "%-44s %s\n", 'scan in a sandbox, trained database (read)', median_ms(sandboxed('ro', \&scan));
printf "%-44s %s\n", 'learn one message (write)', median_ms(sub { learn($_[0], 1) });
printf "%-44s %s\n", 'learn one message in a sandbox (what ships)', median_ms(sandboxed('rw', sub { learn($_[0], 1) }));
my $size = 0;
$size += -s $_ for glob '/var/lib/hearth/bayes/*';
printf "database after %d messages learned: %.0f KiB\n", 60 + $messages * $rounds, $size / 1024;
