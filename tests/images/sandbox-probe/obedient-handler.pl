# A handler that does whatever its one connection asks: the attacker's stand-in inside a sandbox.
# It answers "ready", then one line per command:
#   write PATH TEXT | read PATH | list DIR | spawn MARKER | pid | ids | connect HOST PORT | unshare | quit
use strict;
use warnings;
use IO::Socket::INET;

sub answer {
    my ($line) = @_;
    my ($verb, @args) = split(' ', $line);
    $verb //= '';
    if ($verb eq 'write') {
        open(my $fh, '>', $args[0]) or return "refused: $!";
        print {$fh} $args[1];
        close($fh) or return "refused: $!";
        return 'written';
    }
    if ($verb eq 'read') {
        open(my $fh, '<', $args[0]) or return 'absent';
        return 'content ' . (<$fh> // '');
    }
    if ($verb eq 'list') {
        opendir(my $dh, $args[0]) or return "refused: $!";
        return 'entries ' . join(',', sort grep { !/^\.\.?$/ } readdir($dh));
    }
    if ($verb eq 'spawn') {
        my $pid = fork() // return "refused: $!";
        if ($pid == 0) {
            exec { '/bin/sleep' } "hearth-spawned-$args[0]", '300' or POSIX::_exit(1);
        }
        return "spawned $pid";
    }
    return "pid $$" if $verb eq 'pid';
    return "ids uid=$< euid=$> gid=" . ($( + 0) if $verb eq 'ids';
    if ($verb eq 'connect') {
        my $peer = IO::Socket::INET->new(PeerAddr => $args[0], PeerPort => $args[1], Timeout => 2);
        return $peer ? 'connected' : "refused: $!";
    }
    if ($verb eq 'unshare') {
        # A second user namespace would give this process capabilities again, over new namespaces.
        my $r = syscall(Hearth::Sandbox::number('unshare'), Hearth::Sandbox::CLONE_NEWUSER());
        return $r == 0 ? 'unshared' : "refused: $!";
    }
    return "unknown command: $verb";
}

{
    serve => sub {
        my ($client) = @_;
        $client->autoflush(1);
        print {$client} "ready\n";
        while (defined(my $line = <$client>)) {
            $line =~ s/\r?\n\z//;
            last if $line eq 'quit';
            print {$client} answer($line), "\n";
        }
    },
};
