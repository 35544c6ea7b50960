"""SCALE-Sim topology import: both layouts, SCALE-Sim's arithmetic, malformed files."""

import pytest

from mmsched.sched.errors import InputError
from mmsched.sched.topology import load_topology

# the first rows of SCALE-Sim v2's topologies/conv_nets/alexnet.csv and mobilnet_paper.csv
ALEXNET = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
           "Num Filter, Strides,\n") + """
Conv1     ,224         ,224        ,11           ,11          ,3       ,96        ,4      ,
Conv2     ,27         ,27        ,5            ,5           ,96      ,256       ,1      ,

Conv3     ,13          ,13         ,3            ,3           ,256     ,384       ,1      ,
FC, 1, 1, 1, 1, 1024, 1000, 1,#fc
"""


def test_conv_layout_matches_scalesim_arithmetic(tmp_path):
    f = tmp_path / "alex_net.csv"
    f.write_text(ALEXNET)
    m = load_topology(f)
    assert m.key == "alexnet_dense" and [la.name for la in m.layers] == [
        "Conv1", "Conv2", "Conv3", "FC"]
    c1 = m.layers[0]
    # SCALE-Sim: ofmap = ceil((224 - 11 + 4) / 4) = 55
    assert (c1.m, c1.n, c1.k) == (55 * 55, 96, 11 * 11 * 3) and not c1.act_sparse
    assert (m.layers[1].m, m.layers[1].k) == (23 * 23, 5 * 5 * 96)
    assert m.layers[3].kind == "fc" and (m.layers[3].m, m.layers[3].k) == (1, 1024)
    assert m.layers[1].act_sparse


def test_gemm_layout_and_depthwise(tmp_path):
    f = tmp_path / "g.csv"
    f.write_text("Layer,M,N,K\nQKT,1024,1024,64\nQKTV,1024,64,1024,\n")
    m = load_topology(f, name="gpt")
    assert [(la.m, la.n, la.k) for la in m.layers] == [(1024, 1024, 64), (1024, 64, 1024)]
    f.write_text("Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,"
                 "Num Filter,Strides,\nConv_DP1,114,114,3,3,32,1,2,\n")
    (dw,) = load_topology(f).layers
    # ceil((114 - 3 + 2) / 2) = 57
    assert (dw.kind, dw.groups, dw.k, dw.n, dw.m) == ("dwconv", 32, 9, 1, 57 * 57)


@pytest.mark.parametrize(("text", "where", "expected"), [
    ("Name,A,B\nx,1,2\n", "line 1", "a SCALE-Sim header"),
    ("Layer,M,N,K\nQKT,1024,x,64\n", "line 2, column N", "a positive integer"),
    ("Layer,M,N,K\nQKT,1024,0,64\n", "line 2, column N", "a positive integer"),
    ("Layer,M,N,K\nQKT,1024,64\n", "line 2", "4 columns"),
    ("Layer,M,N,K\n", "", "at least one layer row"),
    ("", "line 1", "a header row"),
    ("Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,"
     "Strides,\nC,3,3,5,5,1,1,1,\n", "line 2, column Filter Height", "a filter no larger"),
])
def test_malformed_topology(tmp_path, text, where, expected):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(InputError, match=f"bad.csv: {where}.*expected {expected}"
                       if where else f"bad.csv: expected {expected}"):
        load_topology(f)
