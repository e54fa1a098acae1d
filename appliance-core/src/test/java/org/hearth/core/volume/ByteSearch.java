package org.hearth.core.volume;

/** Finds bytes in bytes: what a thief scanning a disk image would do. */
final class ByteSearch {

    private ByteSearch() {
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
