"" exec --mask always -- bash -c 'trap "stty size <&1 >> sizes" WINCH; stty size <&1 >> sizes; for _ in $(seq 1200); do sleep 0.05; [ -e stop ] && exit 0; done'
