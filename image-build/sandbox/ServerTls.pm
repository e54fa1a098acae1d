package Hearth::ServerTls;
# The TLS identity a sandboxed server offers: the box's certificate for the container's host names
# once the supervisor has put it in HEARTH_SECRETS (/run/secrets: tls-chain.pem, then tls-key.pem,
# replaced in place on renewal, so read at each handshake), else the self-signed one the server made
# at start. A chain that does not load (caught half replaced, or its key not its own) is logged
# and the self-signed identity serves meanwhile.
use strict;
use warnings;
use IO::Socket::SSL;

sub context {
    my (%identity) = @_;    # role (for the log), certificate and key (the self-signed identity)
    my $secrets = $ENV{HEARTH_SECRETS} // '';
    $secrets = '/run/secrets' unless length $secrets;
    my ($chain_file, $key_file) = ("$secrets/tls-chain.pem", "$secrets/tls-key.pem");
    if (-e $chain_file) {
        my $context = eval {
            IO::Socket::SSL::SSL_Context->new(SSL_server => 1, SSL_cert_file => $chain_file, SSL_key_file => $key_file)
        };
        return $context if $context;
        print STDERR "role=$identity{role} event=certificate-unreadable file=$chain_file error="
            . (($@ || $SSL_ERROR) =~ s/\s+/ /gr) . "\n";
    }
    return IO::Socket::SSL::SSL_Context->new(SSL_server => 1, SSL_cert => $identity{certificate}, SSL_key => $identity{key});
}

1;
