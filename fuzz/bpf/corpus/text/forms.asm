/* every operand form */
start:  ld #0x10
        ldx #len
        ld M[0]
        st M[1]
        ldb [x + 14]
        ldh [%x + 0b11]
        ldx 4*([14]&0xf)
        ld proto
        ldh rand
        add x
        and #0xffff0000
        lsh #017
        jset #1, a1, a2
a1:     jlt x, a2
a2:     jge #-1, 0, 1
        ja out
        raw 0x1234, 1, 2, 3
out:    ret a
