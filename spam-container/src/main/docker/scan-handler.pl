# The scanner's handler for hearth-sandbox-host: SpamAssassin's rules are compiled once in the host;
# each message is read and scanned in a sandbox that never saw another message. It answers the
# SPAMC/1.5 protocol's PING, CHECK and SYMBOLS, which is what the store's client asks
# (imap-container SpamScanner); it never rewrites mail.
use strict;
use warnings;
use Mail::SpamAssassin;

# The store scans up to its SPAM_MAX_SCAN_BYTES (512000 by default); anything far larger is refused.
my $MAX_BYTES = 2 * 1024 * 1024;
my $spamassassin;

sub reply {
    my ($client, $code, $text, @lines) = @_;
    print {$client} join("\r\n", "SPAMD/1.5 $code $text", @lines), "\r\n";
}

{
    prepare => sub {
        $spamassassin = Mail::SpamAssassin->new({
            dont_copy_prefs => 1, local_tests_only => 1, userprefs_filename => undef,
            home_dir_for_helpers => '/tmp', userstate_dir => '/tmp',
        });
        $spamassassin->compile_now(0, 1);
    },
    serve => sub {
        my ($client) = @_;
        binmode($client);
        my $request = <$client> // return;
        my ($verb) = $request =~ m{^(PING|CHECK|SYMBOLS) SPAMC/1\.\d+\r?\n\z}
            or return reply($client, 76, 'EX_PROTOCOL');
        return reply($client, 0, 'PONG') if $verb eq 'PING';
        my $length;
        while (defined(my $header = <$client>)) {
            last if $header =~ /^\r?\n\z/;
            $length = $1 if $header =~ /^Content-length:\s*(\d+)\r?\n\z/i;
        }
        return reply($client, 76, 'EX_PROTOCOL') unless defined $length;
        return reply($client, 74, 'EX_IOERR') if $length > $MAX_BYTES;
        my $message = '';
        while (length($message) < $length) {
            my $n = read($client, $message, $length - length($message), length($message));
            return reply($client, 74, 'EX_IOERR') unless $n;
        }
        my $mail = $spamassassin->parse($message);
        my $status = $spamassassin->check($mail);
        my $verdict = sprintf('Spam: %s ; %.1f / %.1f', $status->is_spam ? 'True' : 'False',
                              $status->get_score, $status->get_required_score);
        my $rules = $verb eq 'SYMBOLS' ? join(',', grep { length } split(/,/, $status->get_names_of_tests_hit)) : '';
        print {$client} "SPAMD/1.5 0 EX_OK\r\nContent-length: " . length($rules) . "\r\n$verdict\r\n\r\n$rules";
        $status->finish;
        $mail->finish;
    },
};
