# The scanner's handler for hearth-sandbox-host: SpamAssassin's rules are compiled once in the host;
# each message is read and scanned in a sandbox that never saw another message. It answers the
# SPAMC/1.5 protocol's PING, CHECK and SYMBOLS, which is what the store's client asks
# (imap-container SpamScanner); it never rewrites mail.
#
# Each user has a Bayes database of their own on the scanner's encrypted volume. A scan's sandbox
# sees its recipient's read-only, and says whether SpamAssassin's auto-learning thresholds call the
# message clearly ham or spam; the store then asks for it to be learned (TELL, what sa-learn does),
# as it does when the owner moves a message into or out of Junk. A learner's sandbox sees that one
# user's database, writable, and nothing else of the volume.
#
# Given the envelope sender (request header Envelope-From), it also checks who sent the message:
# SPF (Mail::SPF) of the relay smtp-in names in its Received field, every DKIM signature
# (Mail::DKIM) and DMARC (Mail::DMARC, organizational domains from Debian's Public Suffix List),
# and answers them as Authentication-Results clauses (RFC 8601) plus the sender's DMARC disposition.
# Its DNS goes through one UDP socket to the appliance's resolver, opened before the sandbox lost the
# network: an exploited sandbox can ask the resolver about its own message, and reach nothing else.
use strict;
use warnings;
use IO::Socket::IP;
use Mail::SpamAssassin;
use Mail::SpamAssassin::BayesStore::DBM;
{
    # A scan's sandbox reads its user's Bayes database and cannot write it: the token touches
    # SpamAssassin would journal there after a scan (for expiry) are skipped, so tokens age from
    # when they were learned.
    no warnings 'redefine';
    *Mail::SpamAssassin::BayesStore::DBM::tok_touch_all = sub { 1 };
}
use Mail::DKIM::DNS;
use Mail::DKIM::Verifier;
BEGIN {
    # Mail::DMARC loads its reporting side with its checks (Mail::DMARC::Report: aggregate reports'
    # XML, mail and compression, 12 MiB in every scanner). Deciding DMARC needs only the reporting
    # URIs of a policy read (Report::URI); this stands in for the rest. Reports are never saved here
    # (auto_save is 0 in Mail::DMARC's own config); anything else asked of the stand-in dies rather
    # than quietly doing nothing.
    package Mail::DMARC::Report;
    $INC{'Mail/DMARC/Report.pm'} = __FILE__;
    require Mail::DMARC::Report::URI;
    sub new { return bless {}, shift }
    sub uri { return Mail::DMARC::Report::URI->new }
    our $AUTOLOAD;
    sub AUTOLOAD { die "Hearth's scanner sends no DMARC reports ($AUTOLOAD)\n" }
    sub DESTROY { }
}
use Mail::DMARC::PurePerl;
use Mail::SPF;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(time);

# The store scans up to its SPAM_MAX_SCAN_BYTES (512000 by default); anything far larger is refused.
my $MAX_SCAN_BYTES = 2 * 1024 * 1024;
# Larger messages are read only for their DKIM signatures, a chunk at a time (smtp-in's ceiling).
my $MAX_BYTES = 64 * 1024 * 1024;
# All lookups of one message together stop after this, so the store's 30 s wait is never reached,
# even by the first message after an unload, which first waits for the rules (≈ 2 s here).
my $DNS_SECONDS = 12;
# The resolver appliance.yaml names; the supervisor sets it with the container's egress.
my $RESOLVER = $ENV{HEARTH_RESOLVER};
# Each user's Bayes database: a directory per user (named by a hash of the name) on the volume.
my $BAYES_ROOT = '/data/bayes';
# Where a sandbox finds the one user's directory it keeps (local.cf's bayes_path): empty in the image.
my $BAYES_DIR = '/var/lib/hearth/bayes';
my $spamassassin;

{
    # Ed25519-SHA256 signatures (RFC 8463) for Debian 12's Mail::DKIM (1.20230212), which knows only
    # RSA and calls every other signature a permerror. This class verifies them with CryptX, the way
    # Mail::DKIM's own RSA class does RSA: the canonicalized header's SHA-256 is the message Ed25519
    # signs, the body hash is checked by the base class. The subs replaced below are where Mail::DKIM
    # picks a signature's algorithm class, its hash, a key's size and a key record's check; each hands
    # on anything but Ed25519 unchanged.
    package Hearth::DkimEd25519Sha256;
    use parent -norequire, 'Mail::DKIM::Algorithm::Base';
    use Crypt::PK::Ed25519;
    use Digest::SHA;
    use MIME::Base64 qw(decode_base64);

    sub init_digests {
        my $self = shift;
        $self->{header_digest} = Digest::SHA->new(256);
        $self->{body_digest} = Digest::SHA->new(256);
    }

    sub verify {
        my $self = shift;
        my $key = $self->signature->get_public_key;
        # An RSA key record cannot vouch for an Ed25519 signature.
        return unless ($key->get_tag('k') // 'rsa') eq 'ed25519';
        my $signature = decode_base64($self->signature->data // '');
        my $ok = eval {
            Crypt::PK::Ed25519->new->import_key_raw(decode_base64($key->data), 'public')
                ->verify_message($signature, $self->{header_digest}->digest);
        };
        return unless $ok;
        return $self->check_body_hash;
    }

    sub wants_pre_signature_headers { 1 }

    no warnings 'redefine';
    my $algorithm_class = Mail::DKIM::Signature->can('get_algorithm_class');
    *Mail::DKIM::Signature::get_algorithm_class = sub {
        my ($signature, $algorithm) = @_;
        return __PACKAGE__ if $algorithm eq 'ed25519-sha256';
        return $algorithm_class->(@_);
    };
    my $hash_algorithm = Mail::DKIM::Signature->can('hash_algorithm');
    *Mail::DKIM::Signature::hash_algorithm = sub {
        return 'sha256' if ($_[0]->algorithm // '') eq 'ed25519-sha256';
        return $hash_algorithm->(@_);
    };
    # The verifier asks every key's size (refusing short RSA keys): an Ed25519 key is 32 bytes.
    # (can: cork is inherited, and a reference to the name alone would call the replacement.)
    my $cork = Mail::DKIM::PublicKey->can('cork');
    *Mail::DKIM::PublicKey::cork = sub {
        return bless({}, 'Hearth::DkimEd25519Sha256::Size') if ($_[0]->get_tag('k') // '') eq 'ed25519';
        return $cork->(@_);
    };
    sub Hearth::DkimEd25519Sha256::Size::size { 32 }
    # A k=ed25519 record holds the raw 32-byte key (RFC 8463 §4), which OpenSSL's RSA loader
    # behind the original check refuses; its other rules are the same.
    my $key_check = Mail::DKIM::PublicKey->can('check');
    *Mail::DKIM::PublicKey::check = sub {
        my $key = shift;
        return $key_check->($key, @_) unless ($key->get_tag('k') // '') eq 'ed25519';
        my $v = $key->get_tag('v');
        die "unsupported version\n" if $v && $v ne 'DKIM1';
        my $p = $key->data;
        die "missing p= tag\n" unless defined $p;
        die "revoked\n" if $p eq '';
        die "invalid data\n" unless $p =~ m{\A[A-Za-z0-9+/]+=*\z} && length(decode_base64($p)) == 32;
        if (my $s = $key->get_tag('s')) {
            die "does not support email\n" unless grep { $_ eq '*' || $_ eq 'email' } split /:/, $s;
        }
        return 1;
    };
}

{
    # Mail::DMARC with Debian's Public Suffix List (its default), plus RFC 6761's "test": a test
    # world's domains are judged like real ones, and .test never resolves on the internet.
    package Hearth::Dmarc;
    our @ISA = ('Mail::DMARC::PurePerl');
    sub is_public_suffix {
        my ($self, $zone) = @_;
        return 1 if lc($zone // '') eq 'test';
        return $self->SUPER::is_public_suffix($zone);
    }
}

{
    # Net::DNS asking through the one socket this sandbox was given and nowhere else. A truncated
    # answer cannot be retried over TCP (no new connection can be made): it is an error, as is
    # anything asked after the message's DNS time is up.
    package Hearth::OneSocketResolver;
    our @ISA = ('Net::DNS::Resolver');
    # $FAILURES counts lookups that got no answer (a timeout, SERVFAIL): "no record" is not one.
    our ($SOCKET, $DEADLINE, $FAILURES);
    sub _create_udp_socket { return $SOCKET }
    sub _create_tcp_socket { return }
    sub send {
        my $self = shift;
        if (Time::HiRes::time() > $DEADLINE) {
            $self->errorstring('query timed out');
            $FAILURES++;
            return;
        }
        my $reply = $self->SUPER::send(@_);
        $FAILURES++ unless $reply && $reply->header->rcode =~ /^(NOERROR|NXDOMAIN)\z/;
        return $reply;
    }
}

sub reply {
    my ($client, $code, $text, @lines) = @_;
    print {$client} join("\r\n", "SPAMD/1.5 $code $text", @lines), "\r\n";
}

# A value for an Authentication-Results property: kept if it is a plain token, else cut to its domain.
sub value {
    my ($text) = @_;
    return $text if $text =~ m{\A[A-Za-z0-9!#\$%&'*+\-/=?^_`{|}~.@]{1,254}\z};
    return $1 if $text =~ /@([A-Za-z0-9.-]{1,253})\z/;
    return 'unknown';
}

# The relay that handed the message to smtp-in: its HELO name and address, from the Received field
# smtp-in wrote ("from HELO ([ADDRESS]) by HOST (Hearth) with ..."). Only the topmost field below the
# store's own (LMTP) counts: a field a sender wrote further down is never taken for smtp-in's.
sub relay {
    my ($headers) = @_;
    while ($headers =~ /^Received:(.*(?:\r?\n[ \t].*)*)/mg) {
        my $field = $1;
        next if $field =~ /\bwith LMTP\b/;
        return $field =~ /\A from (\S+) \(\[([0-9A-Fa-f.:]+)\]\)\r?\n[ \t]+by \S+ \(Hearth\) with / ? ($1, $2) : ();
    }
    return;
}

sub header_field {
    my ($headers, $name) = @_;
    return unless $headers =~ /^\Q$name\E:[ \t]*(.*(?:\r?\n[ \t].*)*)/mi;
    (my $value = $1) =~ s/\r?\n//g;
    return $value;
}

# SPF, DKIM and DMARC of one message, as Authentication-Results clauses and the DMARC disposition.
sub authenticate {
    my ($headers, $dkim, $envelope_from, $socket) = @_;
    return ('none (no DNS resolver configured)', 'none') unless $socket;
    $Hearth::OneSocketResolver::SOCKET = $socket;
    $Hearth::OneSocketResolver::DEADLINE = time() + $DNS_SECONDS;
    my $resolver = Hearth::OneSocketResolver->new(nameservers => [$RESOLVER], udppacketsize => 1232,
                                                  retrans => 2, retry => 2, dnsrch => 0, defnames => 0);
    my @clauses;
    my ($helo, $address) = relay($headers);
    my ($spf, $spf_domain) = ('none', '');
    if (defined $address) {
        my $scope = length $envelope_from ? 'mfrom' : 'helo';
        my $identity = length $envelope_from ? $envelope_from : $helo;
        ($spf_domain) = $identity =~ /([^@]*)\z/;
        $spf = eval {
            Mail::SPF::Server->new(dns_resolver => $resolver)->process(Mail::SPF::Request->new(
                scope => $scope, identity => $identity, ip_address => $address, helo_identity => $helo))->code;
        } // 'permerror';
        push @clauses, "spf=$spf " . ($scope eq 'mfrom' ? 'smtp.mailfrom=' : 'smtp.helo=') . value($identity);
    } else {
        push @clauses, 'spf=none (no relay named by smtp-in)';
    }
    Mail::DKIM::DNS::resolver($resolver);
    $dkim->CLOSE;
    my @signatures = grep { ref($_) ne 'Mail::DKIM::DkSignature' } $dkim->signatures;
    for my $signature (@signatures) {
        my $result = $signature->result;
        # RFC 8601's names: a signature that cannot be checked is a temperror if its key could not be
        # fetched, else (no key, bad syntax) a permerror.
        $result = ($signature->result_detail // '') =~ /DNS error/ ? 'temperror' : 'permerror' if $result eq 'invalid';
        push @clauses, "dkim=$result header.d=" . value($signature->domain // '') . ' header.s='
            . value($signature->selector // '') . ' header.a=' . value($signature->algorithm // '')
            . ' header.b=' . value(substr(($signature->data // '') =~ s/\s+//gr, 0, 8));
    }
    push @clauses, 'dkim=none' unless @signatures;
    my $from = header_field($headers, 'From') // '';
    my $dmarc = Hearth::Dmarc->new;
    $dmarc->set_resolver($resolver);
    $Hearth::OneSocketResolver::FAILURES = 0;
    my ($verdict, $disposition, $domain) = (eval {
        $dmarc->source_ip($address) if defined $address;
        $dmarc->envelope_from($spf_domain) if length $spf_domain;
        $dmarc->header_from_raw($from);
        $dmarc->dkim($dkim);
        $dmarc->spf(domain => $spf_domain, scope => length $envelope_from ? 'mfrom' : 'helo', result => $spf)
            if length $spf_domain;
        my $result = $dmarc->validate;
        my $published = eval { $result->published };
        # No policy found because the lookups failed is a temperror (RFC 7489 §6.6.3), not "none".
        my $outcome = $published ? $result->result : $Hearth::OneSocketResolver::FAILURES ? 'temperror' : 'none';
        [$outcome, $result->disposition // 'none', $dmarc->header_from // ''];
    } // ['permerror', 'none', ''])->@*;
    push @clauses, "dmarc=$verdict" . (length $domain ? ' header.from=' . value($domain) : '');
    return (join('; ', @clauses), $disposition);
}

# TELL: learns one message as spam or ham into the user's database, which this sandbox alone has
# writable (Message-class: spam|ham, Set: local, as spamc -L sends). A message learned before under
# the other class is unlearned from it first (SpamAssassin keeps what it learned in bayes_seen).
sub learn {
    my ($client, $outside) = @_;
    return reply($client, 67, 'EX_NOUSER') unless $outside->{bayes};
    my ($length, $class, $set) = (undef, '', 0);
    while (defined(my $header = <$client>)) {
        last if $header =~ /^\r?\n\z/;
        $length = $1 if $header =~ /^Content-length:\s*(\d+)\r?\n\z/i;
        $class = lc $1 if $header =~ /^Message-class:\s*(spam|ham)\r?\n\z/i;
        $set = 1 if $header =~ /^Set:\s*local\r?\n\z/i;
    }
    return reply($client, 76, 'EX_PROTOCOL') unless defined $length && length $class && $set;
    return reply($client, 74, 'EX_IOERR') if $length > $MAX_SCAN_BYTES;
    my ($message, $read) = ('', 0);
    while ($read < $length) {
        my $n = read($client, $message, $length - $read, $read);
        return reply($client, 74, 'EX_IOERR') unless $n;
        $read += $n;
    }
    $spamassassin->init_learner({ wait_for_lock => 1, caller_will_untie => 1 });
    my $mail = $spamassassin->parse($message);
    my $status = $spamassassin->learn($mail, undef, $class eq 'spam', 0);
    my $learned = $status->did_learn;
    $status->finish;
    $mail->finish;
    # Expiry happens here, the one place the database is writable (SpamAssassin runs it from scans
    # only, which here cannot write), when its own rules call it due: past 150,000 tokens
    # (bayes_expiry_max_db_size), at most every 12 hours.
    $spamassassin->{conf}->{bayes_auto_expire} = 1;
    my ($bayes) = grep { ref($_) eq 'Mail::SpamAssassin::Plugin::Bayes' } @{ $spamassassin->{plugins}->{plugins} // [] };
    $spamassassin->rebuild_learner_caches() if $bayes && $bayes->{store} && eval { $bayes->{store}->expiry_due };
    $spamassassin->finish_learner;
    # spamd's answer: DidSet when learned; nothing when it was learned so already (or not at all).
    print {$client} join("\r\n", 'SPAMD/1.5 0 EX_OK', $learned ? 'DidSet: local' : ()), "\r\n\r\n";
}

{
    prepare => sub {
        $spamassassin = Mail::SpamAssassin->new({
            dont_copy_prefs => 1, local_tests_only => 1, userprefs_filename => undef,
            home_dir_for_helpers => '/tmp', userstate_dir => '/tmp',
        });
        $spamassassin->compile_now(0, 1);
        # The Public Suffix List is read once here, not once per message.
        Hearth::Dmarc->new->get_organizational_domain('example.com');
    },
    outside => sub {
        my ($client) = @_;
        binmode($client);
        # Before the sandbox, only what the store writes itself: the request line and, first of its
        # headers, the user it asks for. The sender's words (Envelope-From, the message) come after
        # and are read inside.
        my $request = <$client> // '';
        my $first = $request =~ /^(?:CHECK|SYMBOLS|TELL) / ? <$client> // '' : '';
        my $learn = $request =~ /^TELL /;
        my ($user, @binds);
        # Any printable name (a local part may hold "/"): it is hashed before it names a directory.
        if ($first =~ /^User:[ \t]*(\S{1,320})\r?\n\z/) {
            ($user, $first) = ($1, '');
            my $dir = "$BAYES_ROOT/" . sha256_hex(lc $user);
            if ($learn && !-d $dir) {
                mkdir($BAYES_ROOT, 0700);
                mkdir($dir, 0700) or print STDERR "role=spam event=bayes-unavailable error=\"$dir: $!\"\n";
            }
            @binds = ([$dir, $BAYES_DIR, $learn ? 'rw' : 'ro']) if -d $dir;
        }
        # The one path to the resolver a scan keeps. A socket that cannot be made leaves the sender
        # checks without DNS (temperror), never the message unscanned.
        my $dns = $RESOLVER && !$learn ? IO::Socket::IP->new(PeerHost => $RESOLVER, PeerPort => 53, Proto => 'udp') : undef;
        # The rest of the volume the host covers in every sandbox (HEARTH_SANDBOX_HIDE); covered here
        # too, so a host started without that setting still shows no sandbox another user's database.
        return ({ request => $request, first => $first, dns => $dns, bayes => scalar(@binds) }, binds => \@binds,
                hide => [grep { -d } $BAYES_ROOT]);
    },
    serve => sub {
        my ($client, $outside) = @_;
        my ($request, $dns) = ($outside->{request}, $outside->{dns});
        my ($verb) = $request =~ m{^(PING|CHECK|SYMBOLS|TELL) SPAMC/1\.\d+\r?\n\z}
            or return reply($client, 76, 'EX_PROTOCOL');
        return reply($client, 0, 'PONG') if $verb eq 'PING';
        return learn($client, $outside) if $verb eq 'TELL';
        my ($length, $envelope_from, $scan) = (undef, undef, 1);
        my $pending = $outside->{first};
        while (defined(my $header = length $pending ? $pending : <$client>)) {
            $pending = '';
            last if $header =~ /^\r?\n\z/;
            $length = $1 if $header =~ /^Content-length:\s*(\d+)\r?\n\z/i;
            $envelope_from = $1 if $header =~ /^Envelope-From:[ \t]*<([^\r\n]*)>\r?\n\z/i;
            $scan = 0 if $header =~ /^Spam-Check:\s*no\r?\n\z/i;
        }
        return reply($client, 76, 'EX_PROTOCOL') unless defined $length;
        return reply($client, 74, 'EX_IOERR') if $length > ($scan ? $MAX_SCAN_BYTES : $MAX_BYTES);
        # Read a chunk at a time: DKIM sees every byte, SpamAssassin (and the header checks) what is kept.
        my $dkim = defined $envelope_from ? Mail::DKIM::Verifier->new : undef;
        my ($message, $read, $carry) = ('', 0, '');
        while ($read < $length) {
            my $n = read($client, my $chunk, ($length - $read) < 65536 ? $length - $read : 65536);
            return reply($client, 74, 'EX_IOERR') unless $n;
            $read += $n;
            $message .= $chunk if $scan || ($message !~ /\r?\n\r?\n/ && length($message) < 1024 * 1024);
            if ($dkim) {
                # DKIM reads CRLF lines; a CR that ends a chunk waits for the next one's LF.
                $chunk = $carry . $chunk;
                $carry = ($read < $length && $chunk =~ s/\r\z//) ? "\r" : '';
                $chunk =~ s/(?<!\r)\n/\r\n/g;
                $dkim->PRINT($chunk);
            }
        }
        my @auth;
        if ($dkim) {
            my ($headers) = $message =~ /\A(.*?\r?\n)\r?\n/s;
            my ($results, $disposition) = authenticate($headers // $message, $dkim, $envelope_from, $dns);
            @auth = ("Authentication: $results", "DMARC-Disposition: $disposition");
        }
        unless ($scan) {
            print {$client} join("\r\n", 'SPAMD/1.5 0 EX_OK', 'Content-length: 0', @auth), "\r\n\r\n";
            return;
        }
        my $mail = $spamassassin->parse($message);
        my $status = $spamassassin->check($mail);
        my $verdict = sprintf('Spam: %s ; %.1f / %.1f', $status->is_spam ? 'True' : 'False',
                              $status->get_score, $status->get_required_score);
        my $rules = $verb eq 'SYMBOLS' ? join(',', grep { length } split(/,/, $status->get_names_of_tests_hit)) : '';
        # Whether SpamAssassin's auto-learning would learn it (its thresholds, bayes_auto_learn_*),
        # for the store to ask a learner: this sandbox may only read the user's database.
        my $autolearn = $spamassassin->call_plugins('autolearn_discriminator', { permsgstatus => $status });
        my $learn = !ref $autolearn || !defined $autolearn->[0] ? 'no' : $autolearn->[0] ? 'spam' : 'ham';
        print {$client} join("\r\n", 'SPAMD/1.5 0 EX_OK', 'Content-length: ' . length($rules), $verdict, @auth,
                             "Autolearn: $learn"),
            "\r\n\r\n$rules";
        $status->finish;
        $mail->finish;
    },
};
