package org.gantry.transport.mqtt.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads certificates and private keys from PEM files as AWS IoT Core and OpenSSL write them, with
 * the JDK alone: a gateway then needs no crypto bundles besides the JRE's. Private keys may be
 * PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}, what AWS IoT
 * issues) or SEC1 EC ({@code BEGIN EC PRIVATE KEY}); PKCS#1 and SEC1 are wrapped into PKCS#8, which
 * is all the JDK's key factories read. Encrypted keys are refused: a gateway has nobody to type the
 * pass phrase.
 */
final class Pem {

  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

  /** rsaEncryption, 1.2.840.113549.1.1.1 */
  private static final byte[] OID_RSA = {
    0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01
  };

  /** id-ecPublicKey, 1.2.840.10045.2.1 */
  private static final byte[] OID_EC = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  private static final byte[] DER_NULL = {0x05, 0x00};

  private Pem() {}

  /**
   * The certificates of a PEM file, in file order.
   *
   * @param property the configuration property that names the file, for error messages
   * @throws IllegalArgumentException when the file cannot be read or holds no certificate
   */
  static List<X509Certificate> certificates(String property, Path file) {
    byte[] bytes = read(property, file);
    List<X509Certificate> result = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (Certificate c : factory.generateCertificates(new ByteArrayInputStream(bytes))) {
        result.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          property + " '" + file + "' is not a PEM certificate file: " + e.getMessage(), e);
    }
    if (result.isEmpty()) {
      throw new IllegalArgumentException(
          property + " '" + file + "' holds no certificate (expected -----BEGIN CERTIFICATE-----)");
    }
    return result;
  }

  /**
   * The private key of a PEM file.
   *
   * @param property the configuration property that names the file, for error messages
   * @throws IllegalArgumentException when the file cannot be read or holds no usable key
   */
  static PrivateKey privateKey(String property, Path file) {
    String text = new String(read(property, file), US_ASCII);
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String type = m.group(1);
      String body = m.group(2);
      if (type.equals("ENCRYPTED PRIVATE KEY") || body.contains("Proc-Type: 4,ENCRYPTED")) {
        throw new IllegalArgumentException(
            property
                + " '"
                + file
                + "' holds an encrypted private key: the gateway cannot ask for a pass phrase;"
                + " store the key unencrypted with permissions 0600");
      }
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(body.strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            property + " '" + file + "': the " + type + " block is not valid base64", e);
      }
      try {
        switch (type) {
          case "PRIVATE KEY":
            return pkcs8(der);
          case "RSA PRIVATE KEY":
            return decode("RSA", pkcs8(OID_RSA, DER_NULL, der));
          case "EC PRIVATE KEY":
            return decode("EC", pkcs8(OID_EC, sec1Curve(der), der));
          default:
            // e.g. EC PARAMETERS, which `openssl ecparam -genkey` writes before the key
            continue;
        }
      } catch (GeneralSecurityException | IOException | RuntimeException e) {
        throw new IllegalArgumentException(
            property + " '" + file + "': the " + type + " cannot be read: " + e.getMessage(), e);
      }
    }
    throw new IllegalArgumentException(
        property
            + " '"
            + file
            + "' holds no private key (expected -----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC"
            + " PRIVATE KEY)");
  }

  private static byte[] read(String property, Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          property + " '" + file + "' cannot be read: " + e.getMessage(), e);
    }
  }

  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    GeneralSecurityException last = null;
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return decode(algorithm, der);
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw new GeneralSecurityException("not an RSA, EC or Ed25519 PKCS#8 key", last);
  }

  private static PrivateKey decode(String algorithm, byte[] pkcs8) throws GeneralSecurityException {
    return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
  }

  /** PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, OCTET STRING key } */
  private static byte[] pkcs8(byte[] algorithmOid, byte[] parameters, byte[] key) {
    byte[] algorithm = tlv(0x30, concat(algorithmOid, parameters));
    byte[] version = {0x02, 0x01, 0x00};
    return tlv(0x30, concat(version, algorithm, tlv(0x04, key)));
  }

  /**
   * The named-curve OID of an ECPrivateKey ::= SEQUENCE { version, privateKey OCTET STRING, [0]
   * parameters, [1] publicKey } (RFC 5915).
   */
  private static byte[] sec1Curve(byte[] der) throws IOException {
    int[] seq = header(der, 0);
    if (der[0] != 0x30) {
      throw new IOException("an EC PRIVATE KEY must be a DER SEQUENCE");
    }
    int pos = seq[0];
    int end = seq[0] + seq[1];
    while (pos < end) {
      int tag = der[pos] & 0xff;
      int[] h = header(der, pos);
      if (tag == 0xa0) {
        byte[] oid = new byte[h[1]];
        System.arraycopy(der, h[0], oid, 0, h[1]);
        if (oid.length == 0 || oid[0] != 0x06) {
          throw new IOException("the EC key does not name its curve (explicit parameters)");
        }
        return oid;
      }
      pos = h[0] + h[1];
    }
    throw new IOException("the EC key does not name its curve");
  }

  /** Returns {offset of the content, length of the content} of the TLV at {@code pos}. */
  private static int[] header(byte[] der, int pos) throws IOException {
    if (pos + 2 > der.length) {
      throw new IOException("truncated DER");
    }
    int length = der[pos + 1] & 0xff;
    int offset = pos + 2;
    if (length > 0x80) {
      int bytes = length - 0x80;
      if (bytes > 3 || offset + bytes > der.length) {
        throw new IOException("bad DER length");
      }
      length = 0;
      for (int i = 0; i < bytes; i++) {
        length = (length << 8) | (der[offset + i] & 0xff);
      }
      offset += bytes;
    } else if (length == 0x80) {
      throw new IOException("indefinite DER length");
    }
    if (offset + length > der.length) {
      throw new IOException("truncated DER");
    }
    return new int[] {offset, length};
  }

  private static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
