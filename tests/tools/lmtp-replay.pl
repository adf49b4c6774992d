#!/usr/bin/perl
# lmtp-replay.pl — tests' LMTP client and token maker, for replay.sh.
#   lmtp-replay.pl send PORT MAILFROM RCPT FILE   delivers FILE as it is (line
#       ends made CRLF as an MTA would, dot-stuffed) in one LMTP session and
#       prints the reply to DATA ("-" when the RCPT was refused: its reply).
#   lmtp-replay.pl token SECRETFILE KIND A B       prints a token as
#       daemon/core/token.c makes it (KIND 1 reply, 2 vote, 3 bounce, 4 moderation).
# Nothing here is timed: every read waits for its line.
use strict;
use warnings;
use IO::Socket::INET;
use Digest::SHA qw(hmac_sha256);

sub varint {
	my ($v) = @_;
	my $s = '';
	do {
		my $b = $v & 0x7f;
		$v >>= 7;
		$s .= chr($b | ($v ? 0x80 : 0));
	} while ($v);
	return $s;
}

sub token {
	my ($file, $kind, $a, $b) = @_;
	open(my $fh, '<', $file) or die "$file: $!";
	my $hex = <$fh>;
	chomp $hex;
	my $raw = varint($a) . varint($b);
	$raw .= substr(hmac_sha256(chr($kind) . $raw, pack('H*', $hex)), 0, 10);
	my ($bits, $out) = (unpack('B*', $raw), '');
	$bits .= '0' x ((5 - length($bits) % 5) % 5);
	$out .= ('a' .. 'z', '2' .. '7')[oct("0b$_")] for $bits =~ /(.{5})/g;
	return $out;
}

sub reply {	# the last line of one (multi-line) reply
	my ($s) = @_;
	my $l;
	do { $l = <$s>; die "connection closed\n" unless defined $l } while ($l =~ /^\d{3}-/);
	$l =~ s/\r?\n$//;
	return $l;
}

sub send_one {
	my ($port, $from, $rcpt, $file) = @_;
	open(my $fh, '<:raw', $file) or die "$file: $!";
	my $data = do { local $/; <$fh> };
	$data =~ s/\r?\n/\r\n/g;
	$data .= "\r\n" unless $data =~ /\r\n\z/;
	$data =~ s/^\./../mg;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die "connect: $!";
	binmode $s;
	reply($s);
	print $s "LHLO replay.example\r\n"; reply($s);
	print $s "MAIL FROM:<$from>\r\n"; reply($s);
	print $s "RCPT TO:<$rcpt>\r\n";
	my $r = reply($s);
	if ($r !~ /^250/) { print "$r\n"; return; }
	print $s "DATA\r\n";
	$r = reply($s);
	if ($r !~ /^354/) { print "$r\n"; return; }
	print $s $data, ".\r\n";
	print reply($s), "\n";
	print $s "QUIT\r\n";
	close $s;
}

my $cmd = shift // '';
if ($cmd eq 'send' && @ARGV == 4) { send_one(@ARGV) }
elsif ($cmd eq 'token' && @ARGV == 4) { print token(@ARGV), "\n" }
else { die "usage: lmtp-replay.pl send PORT FROM RCPT FILE | token SECRETFILE KIND A B\n" }
